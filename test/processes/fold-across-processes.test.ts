import fc from 'fast-check';
import t from 'tap';
import type pg from 'pg';
import { insertSales, makeCatalogue, makeSale, type Catalogue } from '../factories/sales.ts';
import { actualRollups, expectedRollups, pendingDeltas } from '../helpers/rollups.ts';
import { waitFor } from '../helpers/server-process.ts';
import { processFleet, type WebProcess } from './process-fleet.ts';

/** sql/060_fold_daily_sales_stats.sql: pg_try_advisory_xact_lock(1952541803, 1), two int4 keys. */
const FOLD_LOCK = { classid: 1952541803, objid: 1 };
const WRITERS = 4;
const WRITE_FOR_MS = 4_000;

/** A writer's transaction: a few sales inserted, or one moved to another day and price, or one deleted. */
type Write =
  | { kind: 'insert'; sales: { agent: number; product: number; customer: number; day: number; cents: number }[] }
  | { kind: 'update'; day: number; cents: number }
  | { kind: 'delete' };

const writes = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('insert' as const),
    sales: fc.array(fc.record({ agent: fc.nat(4), product: fc.nat(4), customer: fc.nat(4), day: fc.nat(6), cents: fc.integer({ min: 1, max: 99_999 }) }), { minLength: 1, maxLength: 8 }),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), day: fc.nat(6), cents: fc.integer({ min: 1, max: 99_999 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const) }) },
);

async function write(pool: pg.Pool, c: Catalogue, w: Write): Promise<void> {
  const day = (n: number) => `2026-03-${String(10 + n).padStart(2, '0')}T12:00:00Z`;
  const price = (cents: number) => (cents / 100).toFixed(2);
  if (w.kind === 'insert') {
    await insertSales(pool, w.sales.map((s) => makeSale(c, {
      sales_agent_id: c.agents[s.agent]!, product_id: c.products[s.product]!, customer_id: c.customers[s.customer]!,
      created_at: day(s.day), price: price(s.cents),
    })));
  } else if (w.kind === 'update') {
    await pool.query(`update sales set created_at = $1, price = $2 where id = (select id from sales order by random() limit 1)`, [day(w.day), price(w.cents)]);
  } else {
    await pool.query(`delete from sales where id = (select id from sales order by random() limit 1)`);
  }
}

t.test('three web processes folding every 10 ms under concurrent writes: one fold at a time, none waits, and the rollups equal a GROUP BY', async (t) => {
  const fleet = await processFleet(t);
  const c = await makeCatalogue(fleet.pool, 5);
  const webs = await Promise.all(['a', 'b', 'c'].map((name) => fleet.web(name, { STATS_FOLD_INTERVAL_MS: '10' })));
  const nameOf = new Map(webs.map((web) => [web.applicationName, web]));

  // Sample who holds the fold's lock, and who waits for it, as often as one connection can.
  let writing = true;
  const samples = { taken: 0, mostHoldersAtOnce: 0, waiters: 0 };
  const holders = new Set<WebProcess>();
  const sampler = (async () => {
    while (writing) {
      const { rows } = await fleet.pool.query<{ granted: boolean; application_name: string }>(
        `select l.granted, a.application_name
         from pg_locks as l join pg_stat_activity as a on a.pid = l.pid
         where l.locktype = 'advisory' and l.classid = $1 and l.objid = $2 and l.database = (select oid from pg_database where datname = current_database())`,
        [FOLD_LOCK.classid, FOLD_LOCK.objid]);
      samples.taken += 1;
      const granted = rows.filter((row) => row.granted);
      samples.mostHoldersAtOnce = Math.max(samples.mostHoldersAtOnce, granted.length);
      samples.waiters += rows.length - granted.length;
      for (const row of granted) if (nameOf.has(row.application_name)) holders.add(nameOf.get(row.application_name)!);
    }
  })();

  const seed = Date.now() % 2 ** 31;
  t.comment(`writes drawn with fast-check seed ${seed}`);
  const planned = fc.sample(writes, { seed, numRuns: 2_000 });
  let next = 0;
  const deadline = Date.now() + WRITE_FOR_MS;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (Date.now() < deadline && next < planned.length) await write(fleet.pool, c, planned[next++]!);
  }));
  writing = false;
  await sampler;
  t.ok(next > 50, `the writers committed ${next} transactions`);

  // The processes' own fold loops drain what is pending; nobody else folds.
  await waitFor('the web processes to fold every pending delta', async () => await pendingDeltas(fleet.pool) === 0, 20_000);
  t.same(await actualRollups(fleet.pool), await expectedRollups(fleet.pool), 'the rollups equal a GROUP BY over sales');
  const { rows: [folded] } = await fleet.pool.query<{ n: string }>(`select count(*) as n from daily_sales_stats_folded`);
  t.ok(Number(folded!.n) > 0, 'the folded table holds them (nothing left pending)');

  t.ok(samples.taken > 20, `${samples.taken} samples of pg_locks`);
  t.equal(samples.mostHoldersAtOnce, 1, 'never two holders of the fold lock at once (and a fold was seen holding it)');
  t.equal(samples.waiters, 0, 'no process ever waited for it: a fold that finds it taken returns at once');
  t.ok(holders.size >= 2, `folds were run by ${holders.size} of the 3 processes, each in its turn`);

  for (const web of webs) {
    t.notMatch(web.stderr(), /folding rollup deltas failed|deadlock/, `${web.applicationName}: no failed fold`);
    web.child.kill('SIGTERM');
  }
  for (const web of webs) t.match(await web.exited, { code: 0 }, `${web.applicationName} stops cleanly`);
});
