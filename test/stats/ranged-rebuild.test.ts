import t from 'tap';
import type pg from 'pg';
import { freshDatabase } from '../helpers/database.ts';
import { insertSales, makeCatalogue, makeSale } from '../factories/sales.ts';
import { actualRollups, expectedRollups, fold, verifyDifferences } from '../helpers/rollups.ts';

// A ranged rebuild patches (sql/070, sql/065): it writes only the daily and
// period rows that differ from the recount, and a year becomes the sum of its
// month rows.

async function seed(pool: pg.Pool) {
  const c = await makeCatalogue(pool);
  await insertSales(pool, [
    makeSale(c, { created_at: '2026-02-14T09:00:00Z', price: '4.00' }),
    makeSale(c, { created_at: '2026-03-10T12:00:00Z' }),
    makeSale(c, { created_at: '2026-03-11T12:00:00Z', sales_agent_id: c.agents[1]!, customer_id: c.customers[1]! }),
    makeSale(c, { created_at: '2026-03-20T08:00:00Z', product_id: c.products[2]!, price: '7.25' }),
  ]);
  await fold(pool);
  return c;
}

/** What the folded tables hold, row by row, with each row's physical address: a rewrite moves it. */
async function folded(pool: pg.Pool) {
  const daily = await pool.query(`select ctid::text, dimension, day::text, entity_id::text, sales_count::text, total_price::text
                                  from daily_sales_stats_folded order by dimension, day, entity_id`);
  const period = await pool.query(`select ctid::text, dimension, entity_id::text, period, period_start::text, sales_count::text, total_price::text, name
                                   from period_sales_stats_folded order by dimension, entity_id, period, period_start`);
  return { daily: daily.rows, period: period.rows };
}

async function rebuild(pool: pg.Pool, from: string, to: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('select rebuild_daily_sales_stats($1, $2) as n', [from, to]);
  return Number(rows[0]!.n);
}

t.test('a ranged rebuild of exact days writes nothing and leaves the change marker alone', async (t) => {
  const { pool } = await freshDatabase(t);
  await seed(pool);
  const before = await folded(pool);
  const marker = (await pool.query('select stats_change_marker() as m')).rows[0].m;
  t.equal(await rebuild(pool, '2026-03-01', '2026-03-31'), 0, 'no daily row corrected');
  t.same(await folded(pool), before, 'every daily and period row is where it was: none rewritten');
  t.equal((await pool.query('select stats_change_marker() as m')).rows[0].m, marker, 'pages keep their ETags');
});

t.test('a ranged rebuild corrects, adds and removes only the daily rows that differ', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await seed(pool);
  await pool.query(`update daily_sales_stats_folded set sales_count = 9 where dimension = 'agent' and day = '2026-03-10'`);
  await pool.query(`delete from daily_sales_stats_folded where dimension = 'product' and day = '2026-03-20'`);
  await pool.query(`insert into daily_sales_stats_folded values ('customer', '2026-03-12', $1, 2, 3.00)`, [c.customers[2]!]);
  const untouched = (await folded(pool)).daily.filter((row) => row.day === '2026-03-11');
  t.ok(await verifyDifferences(pool) > 0, 'verify sees the damage');

  t.equal(await rebuild(pool, '2026-03-01', '2026-03-31'), 3, 'one corrected, one added, one removed');
  t.equal(await verifyDifferences(pool), 0, 'exact again');
  t.same(await actualRollups(pool), await expectedRollups(pool));
  t.same((await folded(pool)).daily.filter((row) => row.day === '2026-03-11'), untouched, 'the exact rows of the range were not rewritten');
});

t.test('a damaged month row is repaired by rebuilding its month, and its year with it', async (t) => {
  const { pool } = await freshDatabase(t);
  await seed(pool);
  // Only the period rows are damaged: the daily rows are right.
  await pool.query(`update period_sales_stats_folded set sales_count = sales_count + 5, name = 'wrong'
                    where dimension = 'product' and period = 'month' and period_start = '2026-03-01'`);
  await pool.query(`update period_sales_stats_folded set total_price = total_price + 1
                    where dimension = 'agent' and period = 'year'`);
  const damaged = await pool.query(`select dimension from verify_daily_sales_stats('2026-01-01', '2026-12-31')`);
  t.ok(damaged.rows.some((row) => row.dimension === 'product month name'), 'verify reports the month rows and their names');
  t.ok(damaged.rows.some((row) => row.dimension === 'agent year'), 'and the year rows');

  t.equal(await rebuild(pool, '2026-03-01', '2026-03-31'), 0, 'no daily row was wrong');
  t.same((await pool.query(`select * from verify_daily_sales_stats('2026-01-01', '2026-12-31')`)).rows, [],
    'the months, their names and the year, recounted from the months, are exact');
});

t.test('a rebuild of a cut year keeps the year the sum of its months, whatever the other months hold', async (t) => {
  const { pool } = await freshDatabase(t);
  await seed(pool);
  // February's month row is damaged; March is rebuilt. The year follows its months, February's damage included,
  // until February is rebuilt too: a month rebuild never rewrites the other months from their daily rows.
  await pool.query(`update period_sales_stats_folded set sales_count = sales_count + 2
                    where dimension = 'customer' and period = 'month' and period_start = '2026-02-01'`);
  await rebuild(pool, '2026-03-01', '2026-03-31');
  const { rows: years } = await pool.query(`
    select y.entity_id::text, y.sales_count::text as year, sum(m.sales_count)::text as months
    from period_sales_stats_folded as y
    join period_sales_stats_folded as m on m.dimension = y.dimension and m.entity_id = y.entity_id and m.period = 'month'
    where y.dimension = 'customer' and y.period = 'year' group by 1, 2 order by 1`);
  t.ok(years.length > 0);
  t.ok(years.every((row) => row.year === row.months), 'each year is the sum of its month rows');
  t.ok(await verifyDifferences(pool) > 0, 'and verify still reports February');

  await rebuild(pool, '2026-02-01', '2026-02-28');
  t.equal(await verifyDifferences(pool), 0, 'rebuilding February repairs it and its year');
});

t.test('a ranged verify compares the periods wholly inside its days, and only those', async (t) => {
  const { pool } = await freshDatabase(t);
  await seed(pool);
  await pool.query(`update period_sales_stats_folded set sales_count = sales_count + 1
                    where dimension = 'agent' and period in ('month', 'year')`);
  const reported = async (from: string, to: string) => (await pool.query<{ day: string; dimension: string }>(
    `select day::text, dimension from verify_daily_sales_stats($1, $2) where dimension like 'agent %'`, [from, to]))
    .rows.map((row) => `${row.dimension} ${row.day}`).sort();
  t.same(await reported('2026-03-01', '2026-03-31'), ['agent month 2026-03-01', 'agent month 2026-03-01'], 'March, whole: its month rows (two agents), not the year');
  t.same(await reported('2026-03-02', '2026-03-31'), [], 'a day short of March: no period is wholly inside');
  t.same(await reported('2026-02-01', '2026-03-30'), ['agent month 2026-02-01'], 'February whole, March cut');
  t.same(await reported('2026-01-01', '2026-12-31'),
    ['agent month 2026-02-01', 'agent month 2026-03-01', 'agent month 2026-03-01', 'agent year 2026-01-01', 'agent year 2026-01-01'],
    'the year: every month and the year rows');
  t.same(await reported('2025-12-31', '2027-01-01'), await reported('2026-01-01', '2026-12-31'), 'a range a day wider each side: the same periods');
});
