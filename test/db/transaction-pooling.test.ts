import { sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { createDb, prepared, type Db } from '../../src/db/kysely.ts';
import { migrate, migrationStatus } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open-database.ts';
import { createPool } from '../../src/db/pool.ts';
import { sharesServerBackends } from '../../src/db/pooler-check.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { emptyDatabase, freshDatabase, testLog } from '../helpers/database.ts';
import { pgbouncerMissing, startPgBouncer } from '../helpers/pgbouncer.ts';

const skip = pgbouncerMissing();

/** Fifty marked (prepared) reads at once, as fifty page requests would run them; the failures. */
async function fiftyPreparedReads(db: Db): Promise<unknown[]> {
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) =>
    sql<{ n: number }>`${prepared} select count(*)::int + ${i}::int as n from sales`.execute(db)));
  return results.flatMap((result) => result.status === 'rejected' ? [result.reason] : []);
}

t.test('through PgBouncer in transaction mode, named prepared statements fail the way the issue says', { skip }, async (t) => {
  const database = await freshDatabase(t);
  const bouncer = await startPgBouncer(t, { serverUrl: database.adminUrl, poolMode: 'transaction', poolSize: 2 });
  const pool = createPool(bouncer.url(database.name), testLog, { max: 8 });
  const db = createDb(pool); // session pooling: today's behaviour
  t.teardown(() => db.destroy());
  const failures = await fiftyPreparedReads(db);
  t.ok(failures.length > 0, `${failures.length} of 50 failed`);
  t.match(String(failures[0]), /prepared statement "tt_[0-9a-f]+" (already exists|does not exist)/);
});

t.test('with pooling: transaction the same reads all succeed through it', { skip }, async (t) => {
  const database = await freshDatabase(t);
  const bouncer = await startPgBouncer(t, { serverUrl: database.adminUrl, poolMode: 'transaction', poolSize: 2 });
  const pool = createPool(bouncer.url(database.name), testLog, { max: 8 });
  const db = createDb(pool, { pooling: 'transaction' });
  t.teardown(() => db.destroy());
  t.same(await fiftyPreparedReads(db), []);
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  t.teardown(() => client.end());
  const { rows } = await client.query(`select count(*)::int as n from pg_prepared_statements`);
  t.equal(rows[0].n, 0, 'nothing was prepared');
});

t.test('migrations through PgBouncer in transaction mode: two at once both succeed, and no lock or setting stays behind', { skip }, async (t) => {
  const { adminUrl } = await freshDatabase(t); // only for the server's admin URL
  const { name, url } = await emptyDatabase(t);
  const bouncer = await startPgBouncer(t, { serverUrl: adminUrl, poolMode: 'transaction', poolSize: 2 });
  const through = bouncer.url(name);
  const [first, second] = await Promise.all([migrate(through, 'up', testLog), migrate(through, 'up', testLog)]);
  t.ok(first.length > 3 || second.length > 3, 'one of them applied the migrations');
  t.ok(first.length === 0 || second.length === 0, 'the other waited and found nothing to do');
  t.same(await migrate(through, 'down', testLog), [...first, ...second].slice(-1), 'down undoes the newest');
  await migrate(through, 'up', testLog);

  const direct = new pg.Client({ connectionString: url });
  await direct.connect();
  t.teardown(() => direct.end());
  t.same(await migrationStatus(direct), { pending: [], replaceableSqlCurrent: true });
  const { rows: locks } = await direct.query(`select count(*)::int as n from pg_locks
    where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`);
  t.equal(locks[0].n, 0, 'no advisory lock is held by a pooled server connection');
  // The server connections the pooler keeps for this database: none has client_min_messages changed.
  const through2 = new pg.Client({ connectionString: through });
  await through2.connect();
  t.teardown(() => through2.end());
  for (let i = 0; i < 4; i++) {
    const { rows } = await through2.query(`select current_setting('client_min_messages') as level`);
    t.equal(rows[0].level, 'notice');
  }
});

t.test('a transaction pooler is told from Postgres and from a session pooler, and DATABASE_POOLING=session refuses it', { skip }, async (t) => {
  const database = await freshDatabase(t);
  const transactionPool = await startPgBouncer(t, { serverUrl: database.adminUrl, poolMode: 'transaction', poolSize: 2 });
  const sessionPool = await startPgBouncer(t, { serverUrl: database.adminUrl, poolMode: 'session', poolSize: 2 });
  const through = transactionPool.url(database.name);
  t.equal(await sharesServerBackends(through), true, 'transaction pooling: two sessions, one backend');
  t.equal(await sharesServerBackends(sessionPool.url(database.name)), false, 'session pooling: a backend each');
  t.equal(await sharesServerBackends(database.url), false, 'Postgres itself');

  await t.rejects(openDatabase(loadConfig({ DATABASE_URL: through }), testLog),
    new ConfigError(`DATABASE_URL (127.0.0.1:${transactionPool.port}/${database.name} as postgres) leads to a connection pooler in transaction mode (two sessions ran on one server backend): set DATABASE_POOLING=transaction, or point DATABASE_URL at Postgres or a session-mode pool`));
  const opened = await openDatabase(loadConfig({ DATABASE_URL: through, DATABASE_POOLING: 'transaction' }), testLog);
  t.equal(opened.url, through, 'DATABASE_POOLING=transaction opens it');
  await opened.close();
  const session = await openDatabase(loadConfig({ DATABASE_URL: sessionPool.url(database.name) }), testLog);
  await session.close();
  t.pass('a session pooler opens with the default');
});
