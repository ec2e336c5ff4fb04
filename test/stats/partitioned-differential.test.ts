import fc from 'fast-check';
import type pg from 'pg';
import t from 'tap';
import { insertSales, makeCatalogue, type Catalogue, type SaleValues } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { copySales, existingSale, runBatches } from '../helpers/sale-writes.ts';
import { actualRollups, type RollupRow } from '../helpers/rollups.ts';

/**
 * Random sequences of writes on the partitioned sales, with the paths only a
 * partitioned table has: inserts and COPY straight into a partition, updates
 * that move sales across months, TRUNCATE of one partition, partitions created
 * while the default partition holds their rows, and archiving. After each
 * sequence the rollups must equal a plain GROUP BY over the sales still in
 * sales plus the archived months' rows (kept in sales_archive): archiving
 * keeps the stats of the months it takes away.
 *
 * Sales span January to April 2026; at the start of each sequence January and
 * March have partitions, February and April do not (their rows go to the
 * default partition until a partition is created).
 */

const ZONES = ['UTC', 'Europe/London', 'Asia/Kolkata', 'America/New_York'];
const BASE_MS = Date.parse('2026-01-20T00:00:00Z');
const SPAN_MINUTES = 60 * 24 * 90;

const saleArb = fc.record({
  customer: fc.nat(3), product: fc.nat(3), agent: fc.nat(3),
  cents: fc.integer({ min: 0, max: 99_999 }),
  // Clustered near month ends, where a zone moves sales across the boundary.
  minutes: fc.oneof(fc.integer({ min: 0, max: SPAN_MINUTES }), fc.constantFrom(...[11, 39, 70].map((d) => d * 1440)).chain((m) => fc.integer({ min: m - 720, max: m + 720 }))),
});
type SaleSpec = typeof saleArb extends fc.Arbitrary<infer T> ? T : never;

const ref = fc.nat(1000);
const monthArb = fc.constantFrom('2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01');
const opArb = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('insertIntoPartition' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('copy' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 20 }) }),
  fc.record({ kind: fc.constant('copyIntoPartition' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 10 }) }),
  fc.record({ kind: fc.constant('update' as const), target: ref, days: fc.integer({ min: -45, max: 45 }), cents: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ kind: fc.constant('updateMany' as const), modulo: fc.integer({ min: 2, max: 4 }), remainder: fc.nat(3), days: fc.integer({ min: -40, max: 40 }) }),
  fc.record({ kind: fc.constant('updateInPartition' as const), month: monthArb, agent: fc.nat(3) }),
  fc.record({ kind: fc.constant('delete' as const), target: ref }),
  fc.record({ kind: fc.constant('deleteFromPartition' as const), month: monthArb, modulo: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('truncatePartition' as const), month: fc.oneof(monthArb, fc.constant('default')) }),
  fc.record({ kind: fc.constant('truncate' as const) }),
  fc.record({ kind: fc.constant('createPartitions' as const), from: monthArb, months: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('archive' as const), before: fc.constantFrom('2026-02-01', '2026-03-01') }),
  fc.record({ kind: fc.constant('timeZone' as const), zone: fc.constantFrom(...ZONES) }),
  fc.record({ kind: fc.constant('fold' as const) }),
  fc.record({ kind: fc.constant('rebuild' as const), from: fc.option(monthArb, { nil: null }) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const batchArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 5 }),
  ending: fc.constantFrom('commit', 'commit', 'commit', 'rollback'),
});

/** The refusals the engine gives on purpose: archived months (TT020-TT022) and a row that does not fit the partition named. */
const EXPECTED_REFUSALS = new Set(['TT020', 'TT021', 'TT022', '23514']);

function toSale(c: Catalogue, spec: SaleSpec): SaleValues {
  return {
    customer_id: c.customers[spec.customer]!, product_id: c.products[spec.product]!, sales_agent_id: c.agents[spec.agent]!,
    price: (spec.cents / 100).toFixed(2), created_at: new Date(BASE_MS + spec.minutes * 60_000).toISOString(),
  };
}

/** The partition a sale belongs in: its month's, or the default partition when that month has none. */
async function partitionOf(client: pg.PoolClient, createdAt: string): Promise<string> {
  const name = `sales_${createdAt.slice(0, 4)}_${createdAt.slice(5, 7)}`;
  const { rows } = await client.query<{ present: boolean }>(
    `select exists (select from pg_inherits where inhparent = 'sales'::regclass and inhrelid = to_regclass($1)) as present`, [name]);
  return rows[0]?.present ? name : 'sales_default';
}

function partitionName(month: string): string {
  return month === 'default' ? 'sales_default' : `sales_${month.slice(0, 4)}_${month.slice(5, 7)}`;
}

async function partitionExists(client: pg.PoolClient, name: string): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>(
    `select exists (select from pg_inherits where inhparent = 'sales'::regclass and inhrelid = to_regclass($1)) as present`, [name]);
  return rows[0]?.present ?? false;
}

async function apply(client: pg.PoolClient, c: Catalogue, op: Op): Promise<void> {
  switch (op.kind) {
    case 'insert':
      await insertSales(client, op.sales.map((spec) => toSale(c, spec)));
      return;
    case 'insertIntoPartition': {
      // One statement per sale, each naming the partition its date belongs in.
      for (const sale of op.sales.map((spec) => toSale(c, spec))) {
        const table = await partitionOf(client, sale.created_at);
        await client.query(`insert into ${table} (customer_id, product_id, sales_agent_id, price, created_at) values ($1, $2, $3, $4, $5)`,
          [sale.customer_id, sale.product_id, sale.sales_agent_id, sale.price, sale.created_at]);
      }
      return;
    }
    case 'copy':
      await copySales(client, 'sales', op.sales.map((spec) => toSale(c, spec)));
      return;
    case 'copyIntoPartition': {
      const sales = op.sales.map((spec) => toSale(c, spec));
      const table = await partitionOf(client, sales[0]!.created_at);
      const fitting: SaleValues[] = [];
      for (const sale of sales) if ((await partitionOf(client, sale.created_at)) === table) fitting.push(sale);
      await copySales(client, table, fitting);
      return;
    }
    case 'update': {
      const id = await existingSale(client, op.target);
      if (id) await client.query(`update sales set created_at = created_at + make_interval(days => $2), price = $3 where id = $1`, [id, op.days, (op.cents / 100).toFixed(2)]);
      return;
    }
    case 'updateMany':
      await client.query(`update sales set created_at = created_at + make_interval(days => $3) where id % $1 = $2`, [op.modulo, op.remainder % op.modulo, op.days]);
      return;
    case 'updateInPartition': {
      const table = partitionName(op.month);
      if (await partitionExists(client, table)) await client.query(`update ${table} set sales_agent_id = $1, price = price + 0.5`, [c.agents[op.agent]]);
      return;
    }
    case 'delete': {
      const id = await existingSale(client, op.target);
      if (id) await client.query('delete from sales where id = $1', [id]);
      return;
    }
    case 'deleteFromPartition': {
      const table = partitionName(op.month);
      if (await partitionExists(client, table)) await client.query(`delete from ${table} where id % $1 = 0`, [op.modulo]);
      return;
    }
    case 'truncatePartition': {
      const table = partitionName(op.month);
      if (await partitionExists(client, table)) await client.query(`truncate ${table}`);
      return;
    }
    case 'truncate':
      await client.query('truncate sales');
      return;
    case 'createPartitions':
      await client.query(`select create_sales_partitions($1::date, ($1::date + make_interval(months => $2))::date)`, [op.from, op.months]);
      return;
    case 'archive':
      await client.query(`select * from archive_sales_before($1::date)`, [op.before]);
      return;
    case 'timeZone':
      await client.query('select set_stats_time_zone($1)', [op.zone]);
      return;
    case 'fold':
      await client.query('select fold_daily_sales_stats()');
      return;
    case 'rebuild':
      await client.query('select rebuild_daily_sales_stats($1::date, null)', [op.from]);
      return;
  }
}

/** An op inside a savepoint: a refusal the engine gives on purpose undoes the op alone. */
async function applyOrRefused(client: pg.PoolClient, c: Catalogue, op: Op): Promise<void> {
  await client.query('savepoint op');
  try {
    await apply(client, c, op);
    await client.query('release savepoint op');
  } catch (error) {
    if (!EXPECTED_REFUSALS.has((error as { code?: string }).code ?? '')) throw error;
    await client.query('rollback to savepoint op');
  }
}

/** The test's own GROUP BY over sales and the archived rows (not via sale_day() or grouping sets). */
async function expectedWithArchive(pool: pg.Pool): Promise<RollupRow[]> {
  const { rows: archived } = await pool.query<{ name: string }>(
    `select format('sales_archive.%I', relname) as name from pg_class where relnamespace = 'sales_archive'::regnamespace and relkind = 'r' order by 1`);
  const everything = ['select created_at, sales_agent_id, product_id, customer_id, price from sales',
    ...archived.map((table) => `select created_at, sales_agent_id, product_id, customer_id, price from ${table.name}`)].join(' union all ');
  const { rows } = await pool.query<RollupRow>(`
    with zone as (select time_zone from stats_settings),
    days as (select (s.created_at at time zone zone.time_zone)::date as day, s.* from (${everything}) as s cross join zone)
    select day::text, dimension, entity_id::text, count(*)::text as sales_count, to_char(sum(price), 'FM999999999990.00') as total_price
    from (select day, 'agent' as dimension, sales_agent_id as entity_id, price from days
          union all select day, 'product', product_id, price from days
          union all select day, 'customer', customer_id, price from days) as per_dimension
    group by day, dimension, entity_id
    order by day, dimension, entity_id`);
  return rows;
}

/** Back to the starting layout: no archive, no sales, partitions for January and March only. */
async function reset(pool: pg.Pool): Promise<void> {
  await pool.query(`do $$
    declare r record;
    begin
      for r in select format('sales_archive.%I', relname) as name from pg_class where relnamespace = 'sales_archive'::regnamespace and relkind = 'r' loop
        execute 'drop table ' || r.name;
      end loop;
      delete from sales_archived_months;
      truncate sales;
      perform set_stats_time_zone('UTC');
      for r in select inhrelid::regclass as name from pg_inherits where inhparent = 'sales'::regclass and inhrelid <> 'sales_default'::regclass loop
        execute 'drop table ' || r.name;
      end loop;
    end $$`);
  await pool.query(`select create_sales_partitions('2026-01-01', '2026-01-01'), create_sales_partitions('2026-03-01', '2026-03-01')`);
}

t.test('after any sequence of writes, partition maintenance and archiving, the rollups equal a GROUP BY over sales and the archive', async (t) => {
  const { pool } = await freshDatabase(t);
  const catalogue = await makeCatalogue(pool, 4);
  const numRuns = Number(process.env.ROLLUP_PROPERTY_RUNS ?? 40);
  let runs = 0;
  let archivedRuns = 0;

  await fc.assert(
    fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 6 }), async (batches) => {
      await reset(pool);
      await runBatches(pool, batches, (client, op) => applyOrRefused(client, catalogue, op));
      runs++;
      const { rows: [archive] } = await pool.query<{ n: number }>('select count(*)::int as n from sales_archived_months');
      if (archive!.n > 0) archivedRuns++;
      const { rows: [verify] } = await pool.query<{ n: number }>('select count(*)::int as n from verify_daily_sales_stats()');
      const actual = await actualRollups(pool);
      const expected = await expectedWithArchive(pool);
      return verify!.n === 0 && JSON.stringify(actual) === JSON.stringify(expected);
    }),
    { numRuns, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
  );
  t.equal(runs, numRuns, `${runs} random sequences checked`);
  t.ok(archivedRuns > 0, `${archivedRuns} of them ended with archived months`);

  // The property must be able to fail: an archived month's stats wiped by hand are caught.
  await reset(pool);
  await insertSales(pool, [toSale(catalogue, { customer: 0, product: 0, agent: 0, cents: 100, minutes: 0 })]);
  await pool.query(`select * from archive_sales_before('2026-02-01')`);
  t.same(await actualRollups(pool), await expectedWithArchive(pool), 'archived: the stats stay');
  await pool.query(`select fold_daily_sales_stats()`);
  await pool.query(`delete from daily_sales_stats_folded where day < '2026-02-01'`);
  t.not(JSON.stringify(await actualRollups(pool)), JSON.stringify(await expectedWithArchive(pool)), 'a lost archived rollup is caught');
});
