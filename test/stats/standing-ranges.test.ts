import t from 'tap';
import { createFoldStep } from '../../src/stats/fold-step.ts';
import { standingRange } from '../../src/stats/standing-ranges.ts';
import { insertSales, makeCatalogue, makeSale } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { verifyDifferences } from '../helpers/rollups.ts';

t.test('a whole calendar month, a whole calendar year and 30 days are standing ranges', async (t) => {
  t.same(standingRange('2026-11-01', '2026-11-30'), { period: 'month', periodStart: '2026-11-01' }, 'November (30 days, still a month)');
  t.same(standingRange('2026-12-01', '2026-12-31'), { period: 'month', periodStart: '2026-12-01' }, 'December: the next month is in the next year');
  t.same(standingRange('2024-02-01', '2024-02-29'), { period: 'month', periodStart: '2024-02-01' }, 'a leap February');
  t.same(standingRange('2026-02-01', '2026-02-28'), { period: 'month', periodStart: '2026-02-01' });
  t.same(standingRange('2026-01-01', '2026-12-31'), { period: 'year', periodStart: '2026-01-01' });
  t.same(standingRange('2024-01-01', '2024-12-31'), { period: 'year', periodStart: '2024-01-01' }, 'a leap year');
  t.same(standingRange('2026-11-08', '2026-12-07'), { period: 'window', periodStart: '-infinity' }, 'the default range: the last 30 days');
  t.same(standingRange('2026-01-01', '2026-01-30'), { period: 'window', periodStart: '-infinity' },
    'any 30 days is a candidate: the reader checks that the window ends on its last day');
});

t.test('other ranges are read day by day', async (t) => {
  for (const [from, to] of [['2026-11-01', '2026-11-29'], ['2026-11-02', '2026-11-30'], ['2026-01-01', '2026-12-30'],
    ['2026-01-01', '2026-01-29'], ['2026-11-08', '2026-12-08'], ['2026-12-07', '2026-12-07'], ['2025-12-01', '2026-01-31']]) {
    t.equal(standingRange(from!, to!), undefined, `${from}..${to}`);
  }
});

t.test('the fold step slides the 30-day window to today in the stats time zone, and the rows follow', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  const { rows: [{ today }] } = await pool.query(`select (now() at time zone stats_time_zone())::date::text as today`);
  await pool.query(`select slide_period_sales_stats_window(current_date - 400)`);
  // A sale today and one 29 days ago are inside the window; one 30 days ago is not.
  await insertSales(pool, [
    makeSale(c, { created_at: `${today}T12:00:00Z`, price: '1.00' }),
    makeSale(c, { created_at: new Date(Date.parse(`${today}T12:00:00Z`) - 29 * 86_400_000).toISOString(), price: '2.00' }),
    makeSale(c, { created_at: new Date(Date.parse(`${today}T12:00:00Z`) - 30 * 86_400_000).toISOString(), price: '4.00' }),
  ]);
  await createFoldStep(pool)();
  const { rows: [window] } = await pool.query(`select last_day::text from period_sales_stats_window`);
  t.equal(window.last_day, today, 'the window ends today');
  const { rows } = await pool.query(`select sales_count::int, total_price::text from period_sales_stats_folded
    where dimension = 'agent' and period = 'window' and period_start = '-infinity'`);
  t.same(rows, [{ sales_count: 2, total_price: '3.00' }], 'the two sales of the last 30 days');
  t.equal(await verifyDifferences(pool), 0);

  // A day later, the sale of 29 days ago leaves and nothing enters.
  t.equal((await pool.query(`select slide_period_sales_stats_window($1::date + 1) as ok`, [today])).rows[0].ok, true);
  const { rows: after } = await pool.query(`select sales_count::int, total_price::text from period_sales_stats_folded
    where dimension = 'agent' and period = 'window' and period_start = '-infinity'`);
  t.same(after, [{ sales_count: 1, total_price: '1.00' }]);
  t.equal(await verifyDifferences(pool), 0);
});

t.test('a slide gives way to a fold or rebuild holding the maintenance lock, and the next one slides', async (t) => {
  const { pool } = await freshDatabase(t);
  const holder = await pool.connect();
  t.teardown(() => holder.release());
  await holder.query('begin');
  await holder.query('select pg_advisory_xact_lock(1952541803, 1)');
  t.equal((await pool.query(`select slide_period_sales_stats_window('2026-01-10') as ok`)).rows[0].ok, false, 'busy: nothing done');
  await holder.query('commit');
  t.equal((await pool.query(`select slide_period_sales_stats_window('2026-01-10') as ok`)).rows[0].ok, true);
  t.equal((await pool.query(`select last_day::text from period_sales_stats_window`)).rows[0].last_day, '2026-01-10');
});

t.test('a rename copies the new name into the period rows at once, and verify checks it', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c, { created_at: '2026-01-15T10:00:00Z' })]);
  await pool.query('select fold_daily_sales_stats()');
  await pool.query(`update customers set name = 'Renamed' where id = $1`, [c.customers[0]]);
  const { rows } = await pool.query(`select distinct name from period_sales_stats_folded where dimension = 'customer' and entity_id = $1`, [c.customers[0]]);
  t.same(rows, [{ name: 'Renamed' }]);
  t.equal(await verifyDifferences(pool), 0);
  await pool.query(`update period_sales_stats_folded set name = 'Stale' where dimension = 'customer' and period = 'year'`);
  const { rows: stale } = await pool.query(`select dimension from verify_daily_sales_stats()`);
  t.same(stale, [{ dimension: 'customer year name' }], 'a stale name is a difference');
});

t.test('a rename in an open transaction holds off the fold, which returns 0 until it commits, and nothing is lost', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c, { created_at: '2026-01-15T10:00:00Z' })]);
  await pool.query('select fold_daily_sales_stats()');
  const renamer = await pool.connect();
  t.teardown(() => renamer.release());
  await renamer.query('begin');
  await renamer.query(`update customers set name = 'Later' where id = $1`, [c.customers[0]]);
  await insertSales(pool, [makeSale(c, { created_at: '2026-01-16T10:00:00Z' })]);
  t.equal((await pool.query('select fold_daily_sales_stats() as n')).rows[0].n, '0', 'the fold gives way');
  await renamer.query('commit');
  t.equal((await pool.query('select fold_daily_sales_stats() as n')).rows[0].n, '3', 'then folds the three deltas');
  t.equal(await verifyDifferences(pool), 0);
  const { rows } = await pool.query(`select distinct name from period_sales_stats_folded where dimension = 'customer'`);
  t.same(rows, [{ name: 'Later' }]);
});
