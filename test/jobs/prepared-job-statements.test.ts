import pg from 'pg';
import t from 'tap';
import { createBoss } from '../../src/jobs/boss.ts';
import { jobsIn } from '../../src/jobs/jobs-in-transaction.ts';
import { PreparingBossClient } from '../../src/jobs/preparing-boss-client.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';

async function preparedStatements(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ statement: string }>(`select statement from pg_prepared_statements order by prepare_time`);
  return rows.map((row) => row.statement);
}

t.test('pg-boss\'s client prepares single data statements once, and runs everything else as before', async (t) => {
  const { url } = await freshDatabase(t);
  // Typed as what pg-pool sees: a pg Client.
  const client: pg.Client = new PreparingBossClient({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());

  t.same((await client.query(`select $1::int + 1 as n`, [41])).rows, [{ n: 42 }]);
  t.same((await client.query(`select $1::int + 1 as n`, [1])).rows, [{ n: 2 }], 'the same text again: the same statement');
  const viaCallback = await new Promise((resolve, reject) => {
    client.query(`with x as (select $1::text as v) select v from x`, ['cb'], (error: Error | null, result: pg.QueryResult) => (error ? reject(error) : resolve(result.rows)));
  });
  t.same(viaCallback, [{ v: 'cb' }], 'pg-pool\'s callback form');
  await client.query(`create temporary table scratch (n int)`);
  await client.query(`insert into scratch values (1); insert into scratch values (2)`);
  t.same((await client.query(`select count(*)::int as n from scratch`)).rows, [{ n: 2 }], 'DDL and multi-statement texts still run');
  await client.query('begin');
  await client.query('commit');

  const statements = await preparedStatements(client);
  t.same(statements.sort(), [
    'select $1::int + 1 as n',
    'select count(*)::int as n from scratch',
    'select statement from pg_prepared_statements order by prepare_time',
    'with x as (select $1::text as v) select v from x',
  ].sort(), 'each data statement prepared once; DDL, multi-statement, BEGIN and COMMIT not');
});

t.test('pg-boss works on it: a job sent in a transaction is fetched and completed through prepared statements', async (t) => {
  const { url, db } = await freshDatabase(t);
  const boss = createBoss(url, testLog, { max: 2, instanceName: 'prepared-test' });
  await boss.start();
  t.teardown(() => boss.stop({ graceful: false, close: true }));
  await boss.createQueue('test__prepared');

  const ids = await db.transaction().execute(async (trx) => {
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await boss.send('test__prepared', { i }, { db: jobsIn(trx) }));
    return sent;
  });
  t.equal(ids.filter(Boolean).length, 3, 'three jobs sent in one transaction, through one prepared insert');
  const rolledBack = db.transaction().execute(async (trx) => {
    await boss.send('test__prepared', { i: 99 }, { db: jobsIn(trx) });
    throw new Error('rolled back');
  });
  await t.rejects(rolledBack, /rolled back/);

  const fetched = await boss.fetch<{ i: number }>('test__prepared', { batchSize: 10 });
  t.same(fetched.map((job) => job.data.i).sort(), [0, 1, 2], 'the committed jobs, not the rolled-back one');
  await boss.complete('test__prepared', fetched.map((job) => job.id));
  const again = await boss.fetch('test__prepared', { batchSize: 10 });
  t.same(again, [], 'completed: nothing left to fetch');
});
