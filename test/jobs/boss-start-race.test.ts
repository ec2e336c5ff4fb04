import pg from 'pg';
import t, { type Test } from 'tap';
import { createBoss, startBoss } from '../../src/jobs/boss.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { pgbouncerMissing, startPgBouncer } from '../helpers/pgbouncer.ts';

// pg-boss's install lock (plans.js advisoryLockKey for the schema `pgboss`):
// held here, it lines every starting boss up behind it, as processes started
// at once on a new database are in production.
const INSTALL_LOCK = `select pg_advisory_xact_lock(('x' || encode(sha224((current_database() || '.pgboss.pgboss')::bytea), 'hex'))::bit(64)::bigint)`;

async function waitForLockWaiters(client: pg.Client, count: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`);
    if (rows[0]!.n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${count} sessions queued on pg-boss's install lock`);
}

async function startAtOnce(t: Test, via: 'direct' | 'pgbouncer'): Promise<void> {
  const { url, name, adminUrl, pool } = await freshDatabase(t);
  await pool.query('drop schema if exists pgboss cascade');
  // Through the pooler, as the processes of issue 16's benchmark were: three server connections shared by all.
  const bossUrl = via === 'direct' ? url : (await startPgBouncer(t, { serverUrl: adminUrl, poolMode: 'transaction', poolSize: 3 })).url(name);

  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  t.teardown(() => holder.end());
  await holder.query('begin');
  await holder.query(INSTALL_LOCK);

  const bosses = [1, 2, 3].map((i) => createBoss(bossUrl, testLog, { max: 2, instanceName: `race-${i}`, pooling: via === 'direct' ? 'session' : 'transaction' }));
  t.teardown(() => Promise.all(bosses.map((boss) => boss.stop({ graceful: false, close: true }))));
  const started = Promise.allSettled(bosses.map((boss) => startBoss(boss)));
  // Each has looked for the schema, found none, and waits to install it.
  await waitForLockWaiters(holder, via === 'direct' ? bosses.length : 1);
  await holder.query('commit');

  const outcomes = await started;
  t.same(outcomes.map((outcome) => outcome.status), ['fulfilled', 'fulfilled', 'fulfilled'],
    outcomes.map((outcome) => (outcome.status === 'rejected' ? String((outcome.reason as Error).message) : 'started')).join('; '));

  await bosses[0]!.createQueue('race__check');
  const id = await bosses[1]!.send('race__check', { n: 1 });
  t.ok(id, 'the installed schema works from another instance');
  const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from pgboss.version`);
  t.equal(rows[0]!.n, 1, 'installed once');
}

t.test('processes that start at once on a new database all start pg-boss, whichever installs it', (t) => startAtOnce(t, 'direct'));
t.test('... and through PgBouncer in transaction mode', { skip: pgbouncerMissing() }, (t) => startAtOnce(t, 'pgbouncer'));
