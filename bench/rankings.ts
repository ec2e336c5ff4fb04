/**
 * `npm run bench:rankings`: the standing-range rankings (sql/065) against the
 * range reads they replace, as queries (no HTTP), on one seeded database.
 *
 * Seeds tanktop_bench_rankings_<sales> once (reused by later runs; the same
 * seeder as bench:pages, sales ending 2025-12-31), slides the 30-day window to
 * that day, then times each query 5 times after a warm-up and prints the
 * medians, old and new side by side: the overview's three top-10 lists, the
 * pivot's 51 customers by name and by total, the customers table by name, for
 * the last 30 days, November 2025 and the year 2025 (the pivot at most 31
 * days). Then the pending deltas' range read on a bloated pending table, with
 * and without its (dimension, day) index, under EXPLAIN (ANALYZE, BUFFERS).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { createDb, type Db } from '../src/db/kysely.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDatabaseIfMissing, openDatabase, urlWithDatabase } from '../src/db/open-database.ts';
import { createPool } from '../src/db/pool.ts';
import { createLogger } from '../src/logger.ts';
import { progressPrinter } from '../src/seed/progress.ts';
import { seed } from '../src/seed/seeder.ts';
import { dimensions } from '../src/stats/dimensions.ts';
import { rebuildRollups } from '../src/stats/stats-maintenance.repository.ts';
import { entityTotals, rangeEntityTotals, rowsSorted, rowsSortedQuery, type RangeFilter } from '../src/stats/stats.repository.ts';

const USAGE = 'Usage: npm run bench:rankings -- [--sales 1000000] [--customers 100000] [--runs 5] [-h, --help]';
const { values } = parseArgs({ options: {
  sales: { type: 'string', default: '1000000' }, customers: { type: 'string', default: '100000' },
  runs: { type: 'string', default: '5' }, help: { type: 'boolean', short: 'h' },
} });
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const sales = Number(values.sales);
const customers = Number(values.customers);
const runs = Number(values.runs);
if (![sales, customers, runs].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write(`bench:rankings: --sales, --customers and --runs are whole numbers from 1\n${USAGE}\n`);
  process.exit(2);
}

const END_DAY = '2025-12-31';
const RANGES = { '30 days': ['2025-12-02', END_DAY], 'Nov 2025': ['2025-11-01', '2025-11-30'], 'year 2025': ['2025-01-01', END_DAY] } as const;
const log = createLogger('warn');
const say = (text: string) => process.stderr.write(`${text}\n`);
const server = await openDatabase(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }), log);
const name = `tanktop_bench_rankings_${sales}_${customers}`;
await createDatabaseIfMissing(server.adminUrl, name);
const url = urlWithDatabase(server.adminUrl, name);
await migrate(url, 'up', log);
const pool = createPool(url, log, { max: 4 });
const db = createDb(pool);

try {
  await seedOnce(pool, db);
  await pool.query(`select slide_period_sales_stats_window($1)`, [END_DAY]);
  const { rows: [version] } = await pool.query<{ v: string }>(`select current_setting('server_version') as v`);
  process.stdout.write(`PostgreSQL ${version!.v}, ${sales.toLocaleString('en')} sales, ${customers.toLocaleString('en')} customers; medians of ${runs} runs, ms\n\n`);
  process.stdout.write('| query | range | old (range read) | new | ratio |\n|---|---|---:|---:|---:|\n');
  const customersDim = dimensions[2]!;
  for (const [label, [from, to]] of Object.entries(RANGES)) {
    const filter = (dimension = customersDim): RangeFilter => ({ dimension, from, to });
    await row('overview: 3 top-10 lists by total', label,
      () => Promise.all(dimensions.map((d) => rangeEntityTotals(db, filter(d), 'total', 'desc', 10, 0))),
      () => Promise.all(dimensions.map((d) => entityTotals(db, filter(d), 'total', 'desc', 10, 0))));
    if (label !== 'year 2025') {
      await row('pivot: 51 customers by name', label,
        () => rangeEntityTotals(db, filter(), 'name', 'asc', 51, 0), () => entityTotals(db, filter(), 'name', 'asc', 51, 0));
      await row('pivot: 51 customers by total, page 3', label,
        () => rangeEntityTotals(db, filter(), 'total', 'desc', 51, 100), () => entityTotals(db, filter(), 'total', 'desc', 51, 100));
    }
    await row('table: 51 customer rows by name', label,
      () => rowsSortedQuery(filter(), 'name', 'asc', 51, 0).execute(db), () => rowsSorted(db, filter(), 'name', 'asc', 51, 0));
  }
  await pendingScan(pool);
} finally {
  await db.destroy();
  await server.close();
}

async function row(query: string, range: string, old: () => Promise<unknown>, now: () => Promise<unknown>): Promise<void> {
  const a = await median(old);
  const b = await median(now);
  process.stdout.write(`| ${query} | ${range} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(0)}x |\n`);
}

async function median(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times.sort((x, y) => x - y)[Math.floor(times.length / 2)]!;
}

/**
 * The pending table as a busy second leaves it: 200,000 delta rows written,
 * folded away, vacuumed (never truncated). Then a page's read of 30 days of
 * pending deltas, with and without the index.
 */
async function pendingScan(pool: pg.Pool): Promise<void> {
  await pool.query(`insert into daily_sales_stats_pending (dimension, day, entity_id, sales_count, total_price)
    select 'customer', date '2025-01-01' + (i % 365), 1 + i % 1000, 0, 0 from generate_series(1, 200000) as i`);
  await pool.query('delete from daily_sales_stats_pending where sales_count = 0');
  await pool.query('vacuum daily_sales_stats_pending');
  const { rows: [size] } = await pool.query<{ pages: string }>(`select pg_relation_size('daily_sales_stats_pending') / 8192 as pages`);
  const read = `explain (analyze, buffers, costs off, timing off, summary on)
    select entity_id, sum(sales_count), sum(total_price) from daily_sales_stats_pending
    where dimension = 'customer' and day between '2025-12-02' and '2025-12-31' group by entity_id`;
  const client = await pool.connect();
  try {
    const withIndex = (await client.query<{ 'QUERY PLAN': string }>(read)).rows.map((r) => r['QUERY PLAN']);
    await client.query('begin');
    await client.query('drop index daily_sales_stats_pending_dimension_day_idx');
    const without = (await client.query<{ 'QUERY PLAN': string }>(read)).rows.map((r) => r['QUERY PLAN']);
    await client.query('rollback');
    process.stdout.write(`\nPending deltas of 30 days, the pending table empty but ${size!.pages} pages long:\n\nwith the (dimension, day) index:\n${withIndex.join('\n')}\n\nwithout it:\n${without.join('\n')}\n`);
  } finally {
    client.release();
  }
}

async function seedOnce(pool: pg.Pool, db: Db): Promise<void> {
  const { rows } = await pool.query<{ n: string }>('select count(*) as n from sales');
  if (Number(rows[0]!.n) === sales) {
    say(`reusing ${name}`);
    return;
  }
  say(`seeding ${sales.toLocaleString('en')} sales into ${name} (once; later runs reuse it)…`);
  // As bench:pages: rows first, foreign keys and rollups after, in one pass each.
  await pool.query('alter table sales disable trigger _500_record_stats_on_insert');
  const { rows: foreignKeys } = await pool.query<{ name: string; definition: string }>(`
    select conname as name, pg_get_constraintdef(oid) as definition
    from pg_constraint where conrelid = 'sales'::regclass and contype = 'f'`);
  for (const key of foreignKeys) await pool.query(`alter table sales drop constraint ${pg.escapeIdentifier(key.name)}`);
  try {
    const progress = progressPrinter();
    await seed(pool, { sales, agents: 50, products: 2_000, customers, days: 365, seed: 42, endDay: END_DAY, append: false },
      ({ table, done, total }) => progress.update(table, done, total));
    progress.done('rebuilding the rollups and analysing…');
  } finally {
    for (const key of foreignKeys) await pool.query(`alter table sales add constraint ${pg.escapeIdentifier(key.name)} ${key.definition}`);
    await pool.query('alter table sales enable trigger _500_record_stats_on_insert');
  }
  await rebuildRollups(db);
  await pool.query('vacuum analyze');
}
