import { sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { createDb, prepared, type Db } from '../../src/db/kysely.ts';
import { createPool } from '../../src/db/pool.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
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
