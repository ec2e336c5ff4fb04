import fc from 'fast-check';
import type pg from 'pg';
import t, { type Test } from 'tap';
import type { Db } from '../../src/db/kysely.ts';
import { createPool } from '../../src/db/pool.ts';
import { addDays } from '../../src/stats/days.ts';
import { dimensions, type DimensionInfo } from '../../src/stats/dimensions.ts';
import { periodEntityTotals, periodRowsByName } from '../../src/stats/period-rankings.repository.ts';
import { standingRange, type StandingRange } from '../../src/stats/standing-ranges.ts';
import { entityTotals, rangeEntityTotals, rangeTotals, rowsSorted, rowsSortedQuery } from '../../src/stats/stats.repository.ts';
import type { SortDirection } from '../../src/stats/stats-query.ts';
import { insertSales, makeCatalogue, type Catalogue, type SaleValues } from '../factories/sales.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { copySales, existingSale, runBatches, updateSale } from '../helpers/sale-writes.ts';
import { verifyDifferences } from '../helpers/rollups.ts';

/**
 * Random writes of every kind (inserts, COPY, updates that move sales across
 * days, months and the year's end, deletes, TRUNCATE), renames, folds, slides
 * of the 30-day window, rebuilds and time zone changes, some left unfolded;
 * then, for every standing range (three months, two years, the window), every
 * dimension, every sort and direction and a random page, the period-row
 * rankings must equal a GROUP BY over sales joined to the names.
 */

const BASE_MS = Date.parse('2025-12-18T00:00:00Z');
const SPAN_MINUTES = 60 * 24 * 50; // to early February 2026: two month ends and a year's end
const NAMES = ['Ada', 'ada', 'Bo', 'Bo', 'Zed', 'Émile', 'bo b', 'Ada'];
const ZONES = ['UTC', 'Pacific/Kiritimati', 'America/New_York'];

const saleArb = fc.record({
  customer: fc.nat(4), product: fc.nat(4), agent: fc.nat(4),
  cents: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 99_999 })),
  minutes: fc.oneof(fc.integer({ min: 0, max: SPAN_MINUTES }),
    // around the month and year ends
    fc.constantFrom(Date.parse('2025-12-31T23:30:00Z'), Date.parse('2026-01-01T00:10:00Z'), Date.parse('2026-01-31T23:59:00Z'))
      .map((ms) => (ms - BASE_MS) / 60_000)),
});
type SaleSpec = typeof saleArb extends fc.Arbitrary<infer T> ? T : never;

const ref = fc.nat(1000);
const opArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 12 }) }) },
  fc.record({ kind: fc.constant('copy' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 30 }) }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('update' as const), target: ref, column: fc.constantFrom('price', 'sales_agent_id', 'customer_id', 'created_at', 'all'), value: saleArb }) },
  fc.record({ kind: fc.constant('updateMany' as const), modulo: fc.integer({ min: 2, max: 4 }), remainder: fc.nat(3) }),
  fc.record({ kind: fc.constant('delete' as const), target: ref }),
  fc.record({ kind: fc.constant('deleteMany' as const), modulo: fc.integer({ min: 2, max: 5 }), remainder: fc.nat(4) }),
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fold' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('slide' as const), day: fc.integer({ min: -10, max: 70 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), dimension: fc.nat(2), which: fc.nat(4), name: fc.constantFrom(...NAMES) }) },
  fc.record({ kind: fc.constant('rebuild' as const), fromOffset: fc.integer({ min: -5, max: 50 }), length: fc.integer({ min: 0, max: 40 }), bounds: fc.constantFrom('both', 'both', 'from', 'to', 'none') }),
  fc.record({ kind: fc.constant('timeZone' as const), zone: fc.constantFrom(...ZONES) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const batchArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 6 }),
  ending: fc.constantFrom('commit', 'commit', 'commit', 'rollback'),
});
const pageArb = fc.record({ limit: fc.integer({ min: 1, max: 6 }), offset: fc.integer({ min: 0, max: 4 }) });

function toSale(c: Catalogue, spec: SaleSpec): SaleValues {
  return {
    customer_id: c.customers[spec.customer]!, product_id: c.products[spec.product]!, sales_agent_id: c.agents[spec.agent]!,
    price: (spec.cents / 100).toFixed(2), created_at: new Date(BASE_MS + spec.minutes * 60_000).toISOString(),
  };
}

const tables = ['sales_agents', 'products', 'customers'] as const;

async function apply(client: pg.PoolClient, c: Catalogue, op: Op): Promise<void> {
  switch (op.kind) {
    case 'insert':
      await insertSales(client, op.sales.map((spec) => toSale(c, spec)));
      return;
    case 'copy':
      await copySales(client, 'sales', op.sales.map((spec) => toSale(c, spec)));
      return;
    case 'update': {
      const id = await existingSale(client, op.target);
      if (!id) return;
      await updateSale(client, id, op.column, toSale(c, op.value));
      return;
    }
    case 'updateMany':
      // Across the month's end for some, a new customer for all of the slice.
      await client.query(`update sales set created_at = created_at + interval '9 days 5 hours', customer_id = $3 where id % $1 = $2`,
        [op.modulo, op.remainder % op.modulo, c.customers[op.remainder % c.customers.length]]);
      return;
    case 'delete': {
      const id = await existingSale(client, op.target);
      if (id) await client.query('delete from sales where id = $1', [id]);
      return;
    }
    case 'deleteMany':
      await client.query('delete from sales where id % $1 = $2', [op.modulo, op.remainder % op.modulo]);
      return;
    case 'truncate':
      await client.query('truncate sales');
      return;
    case 'fold':
      await client.query('select fold_daily_sales_stats()');
      return;
    case 'slide':
      await client.query('select slide_period_sales_stats_window($1::date)', [addDays('2025-12-18', op.day)]);
      return;
    case 'rename': {
      const ids = [c.agents, c.products, c.customers][op.dimension]!;
      await client.query(`update ${tables[op.dimension]} set name = $2 where id = $1`, [ids[op.which % ids.length], op.name]);
      return;
    }
    case 'rebuild': {
      const from = addDays('2025-12-18', op.fromOffset);
      const to = addDays(from, op.length);
      await client.query('select rebuild_daily_sales_stats($1, $2)',
        [op.bounds === 'both' || op.bounds === 'from' ? from : null, op.bounds === 'both' || op.bounds === 'to' ? to : null]);
      return;
    }
    case 'timeZone':
      await client.query('select set_stats_time_zone($1)', [op.zone]);
      return;
  }
}

interface Ranked { entity_id: string; name: string; sales_count: string; total_price: string }
interface RankedRow extends Ranked { day: string }

const normal = (row: Ranked) => ({ entity_id: String(row.entity_id), name: row.name, sales_count: String(Number(row.sales_count)), total_price: Number(row.total_price).toFixed(2) });
const normalRow = (row: RankedRow) => ({ day: row.day, ...normal(row) });

/**
 * The pool the test's own GROUP BYs run on, parallel query and JIT off: on
 * never-analysed partitions the planner's default estimates launch a parallel
 * worker (or JIT) for a few rows, ~80 ms a query, which made this file the
 * suite's slowest by far (292 s of a 300 s timeout). The plan does not change
 * the answer; the engine's own reads keep the server's settings.
 */
function oraclePool(t: Test, url: string): pg.Pool {
  // createPool: the engine's type parsers, and an idle connection ended by the teardown's drop with (force) is only logged.
  const oracle = createPool(url, testLog, { max: 1, options: '-c max_parallel_workers_per_gather=0 -c jit=off' });
  t.teardown(() => oracle.end());
  return oracle;
}

/** The test's own GROUP BY over sales (no sql/ function): each dimension's sales of from..to, with names. */
function salesOf(dimension: DimensionInfo): string {
  const column = { agent: 'sales_agent_id', product: 'product_id', customer: 'customer_id' }[dimension.dimension];
  return `select (s.created_at at time zone z.time_zone)::date as day, s.${column} as entity_id, n.name, s.price
          from sales as s cross join stats_settings as z join ${dimension.table} as n on n.id = s.${column}`;
}

async function expectedEntities(pool: pg.Pool, dimension: DimensionInfo, from: string, to: string, sort: 'name' | 'count' | 'total', dir: SortDirection, limit: number, offset: number) {
  const column = { name: 'name', count: 'sales_count', total: 'total_price' }[sort];
  const { rows } = await pool.query<Ranked>(`
    select entity_id, name, count(*) as sales_count, sum(price) as total_price
    from (${salesOf(dimension)}) as x where day between $1 and $2
    group by entity_id, name
    order by ${column} ${dir}, entity_id ${dir} limit $3 offset $4`, [from, to, limit, offset]);
  return rows.map(normal);
}

async function expectedRowsByName(pool: pg.Pool, dimension: DimensionInfo, from: string, to: string, dir: SortDirection, limit: number, offset: number) {
  const { rows } = await pool.query<RankedRow>(`
    select day::text, entity_id, name, count(*) as sales_count, sum(price) as total_price
    from (${salesOf(dimension)}) as x where day between $1 and $2
    group by day, entity_id, name
    order by name ${dir}, entity_id ${dir}, day ${dir} limit $3 offset $4`, [from, to, limit, offset]);
  return rows.map(normalRow);
}

/** The standing ranges the data touches, the window where it stands now. */
async function standingRanges(pool: pg.Pool): Promise<{ from: string; to: string; standing: StandingRange }[]> {
  const { rows } = await pool.query<{ last_day: string }>('select last_day::text from period_sales_stats_window');
  const last = rows[0]!.last_day;
  const ranges = [['2025-12-01', '2025-12-31'], ['2026-01-01', '2026-01-31'], ['2026-02-01', '2026-02-28'],
    ['2025-01-01', '2025-12-31'], ['2026-01-01', '2026-12-31'], [addDays(last, -29), last]] as const;
  return ranges.map(([from, to]) => ({ from, to, standing: standingRange(from, to)! }));
}

interface Mismatch { what: string; actual: unknown; expected: unknown }

async function compareRankings(pool: pg.Pool, db: Db, page: { limit: number; offset: number }): Promise<Mismatch[]> {
  const mismatches: Mismatch[] = [];
  for (const { from, to, standing } of await standingRanges(pool)) {
    const totals = await rangeTotals(db, { dimension: dimensions[0]!, from, to });
    const { rows: [sums] } = await pool.query<{ sales_count: string; total_price: string }>(
      `select count(*) as sales_count, coalesce(sum(price), 0) as total_price from (${salesOf(dimensions[0]!)}) as x where day between $1 and $2`, [from, to]);
    const [got, want] = [totals, sums!].map((x) => `${Number(x.sales_count)} ${Number(x.total_price).toFixed(2)}`);
    if (got !== want) mismatches.push({ what: `totals ${from}..${to}`, actual: got, expected: want });
    for (const dimension of dimensions) {
      const filter = { dimension, from, to };
      for (const dir of ['asc', 'desc'] as const) {
        for (const sort of ['name', 'count', 'total'] as const) {
          const actual = await periodEntityTotals(db, filter, standing, sort, dir, page.limit, page.offset);
          const expected = await expectedEntities(pool, dimension, from, to, sort, dir, page.limit, page.offset);
          const what = `${dimension.slug} ${from}..${to} by ${sort} ${dir} limit ${page.limit} offset ${page.offset}`;
          if (actual === undefined) mismatches.push({ what: `${what}: the period rows were not used`, actual, expected });
          else if (JSON.stringify(actual.map(normal)) !== JSON.stringify(expected)) mismatches.push({ what, actual: actual.map(normal), expected });
        }
        const rows = await periodRowsByName(db, filter, standing, dir, page.limit, page.offset);
        const expectedRows = await expectedRowsByName(pool, dimension, from, to, dir, page.limit, page.offset);
        const what = `${dimension.slug} rows ${from}..${to} by name ${dir} limit ${page.limit} offset ${page.offset}`;
        if (rows === undefined) mismatches.push({ what: `${what}: the period rows were not used`, actual: rows, expected: expectedRows });
        else if (JSON.stringify(rows.map(normalRow)) !== JSON.stringify(expectedRows)) mismatches.push({ what, actual: rows.map(normalRow), expected: expectedRows });
      }
    }
  }
  return mismatches;
}

const RUNS = Number(process.env.RANKING_PROPERTY_RUNS ?? 25);

t.test('after any sequence of writes, renames, folds, slides and rebuilds the standing-range rankings equal a GROUP BY over sales', async (t) => {
  const { pool, db, url } = await freshDatabase(t);
  const oracle = oraclePool(t, url);
  const catalogue = await makeCatalogue(pool, 5);
  let runs = 0;
  let lastMismatches: Mismatch[] = [];

  await fc.assert(
    fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 6 }), pageArb, async (batches, page) => {
      await pool.query('truncate sales');
      await pool.query(`select set_stats_time_zone('UTC')`);
      await pool.query(`select slide_period_sales_stats_window('2026-01-10')`);
      await runBatches(pool, batches, (client, op) => apply(client, catalogue, op));
      runs++;
      const differences = await verifyDifferences(pool);
      lastMismatches = await compareRankings(oracle, db, page);
      if (differences !== 0) lastMismatches.push({ what: 'verify_daily_sales_stats() (period rows included)', actual: differences, expected: 0 });
      return lastMismatches.length === 0;
    }),
    { numRuns: RUNS, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
  ).catch((error: unknown) => {
    t.comment(JSON.stringify(lastMismatches.slice(0, 3), null, 1));
    throw error;
  });
  t.equal(runs >= RUNS, true, `${runs} random sequences checked`);

  // The comparison must be able to fail: corrupt one period row and check it is caught.
  await insertSales(pool, [toSale(catalogue, { customer: 0, product: 0, agent: 0, cents: 100, minutes: 60 * 24 * 20 })]);
  await pool.query('select fold_daily_sales_stats()');
  t.same(await compareRankings(oracle, db, { limit: 5, offset: 0 }), [], 'exact before the corruption');
  await pool.query(`update period_sales_stats_folded set total_price = total_price + 1 where dimension = 'product' and period = 'month'`);
  t.not((await compareRankings(oracle, db, { limit: 5, offset: 0 })).length, 0, 'a corrupted period row is caught by the rankings');
  t.not(await verifyDifferences(pool), 0, 'and by verify');
});

t.test('the pages use the period rows for standing ranges and read the range otherwise, with the same answer', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const c = await makeCatalogue(pool, 5);
  const sales = Array.from({ length: 40 }, (_, i) => toSale(c, {
    customer: i % 5, product: (i * 3) % 5, agent: (i * 7) % 5, cents: 100 + i * 37, minutes: (i * 1973) % SPAN_MINUTES,
  }));
  await insertSales(pool, sales);
  await pool.query('select fold_daily_sales_stats()');
  await insertSales(pool, sales.slice(0, 7)); // left pending
  await pool.query(`select slide_period_sales_stats_window('2026-01-20')`);
  const customers = dimensions[2]!;
  const month = { dimension: customers, from: '2026-01-01', to: '2026-01-31' };
  // entityTotals dispatches to the period rows; rangeEntityTotals is the old read: compare both with the same arguments.
  for (const filter of [month, { ...month, from: '2025-12-22', to: '2026-01-20' }]) {
    for (const sort of ['name', 'count', 'total'] as const) {
      t.same((await entityTotals(db, filter, sort, 'desc', 3, 1)).map(normal), (await rangeEntityTotals(db, filter, sort, 'desc', 3, 1)).map(normal), `${filter.from}..${filter.to} by ${sort}`);
    }
    t.same((await rowsSorted(db, filter, 'name', 'asc', 4, 2)).map(normalRow),
      (await rowsSortedQuery(filter, 'name', 'asc', 4, 2).execute(db)).rows.map(normalRow), `${filter.from}..${filter.to} rows by name`);
  }
  const window = { dimension: customers, from: '2025-12-22', to: '2026-01-20' };
  t.ok(await periodEntityTotals(db, window, standingRange(window.from, window.to)!, 'total', 'desc', 10, 0), 'the window rows serve the 30 days they cover');
  const other = { dimension: customers, from: '2025-12-23', to: '2026-01-21' };
  t.equal(await periodEntityTotals(db, other, standingRange(other.from, other.to)!, 'total', 'desc', 10, 0), undefined,
    'another 30 days is read from the range (the window has not slid there)');
  t.same((await entityTotals(db, other, 'total', 'desc', 10, 0)).map(normal), await expectedEntities(pool, customers, other.from, other.to, 'total', 'desc', 10, 0),
    'and is still exact');
});
