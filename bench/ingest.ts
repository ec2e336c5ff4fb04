/**
 * `npm run bench:ingest`: what the rollup triggers cost the writers of sales.
 *
 * Two databases on one server, loaded with the same rows: a baseline (the
 * schema without the four _500_* rollup triggers) and the real schema, with a
 * fold every second as the service runs it. Every case runs on the baseline,
 * then on the real database, in turn, so both see the same server, the same
 * neighbours and the same data. Progress goes to stderr; the results, a
 * Markdown table and notes, to stdout.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config.ts';
import { DatabaseUnavailableError, describeTarget } from '../src/db/connection-check.ts';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase, urlWithDatabase } from '../src/db/open-database.ts';
import { withClient as withOneOffClient } from '../src/db/one-off-client.ts';
import { createPool } from '../src/db/pool.ts';
import { SqlState } from '../src/db/sqlstate.ts';
import { createLogger, type Logger } from '../src/logger.ts';
import { copyCsvRows } from '../src/seed/copy-rows.ts';
import { progressPrinter } from '../src/seed/progress.ts';
import { seededRandom, type Random } from '../src/seed/random.ts';
import { saleCsvLines, seed, type SeedOptions } from '../src/seed/seeder.ts';
import { createFoldStep } from '../src/stats/fold-step.ts';

const USAGE = `Usage: npm run bench:ingest -- [options]

Measures ingest into sales on two databases of one server, with the same data:
tanktop_bench_baseline (the schema without the four _500_* rollup triggers) and
tanktop_bench_rollups (the full schema, folded every second as in production).
Prints rows/s per case and the ratio rollups/baseline (higher is better). The
server is DATABASE_URL when set (its user must be allowed to create databases),
otherwise the embedded Postgres.

Options:
  --scale X     fraction of the full row counts, 0 < X <= 1 (default 1: COPY of
                1,000,000 sales, 10 x 100,000 by INSERT ... SELECT, 100,000 updated)
  --seconds S   length of each concurrent run, cases c, d, c2 (default 15)
  --repeat N    runs of each concurrent case per database, medians taken (default 3)
  --keep        keep both databases afterwards (default: dropped)
  -h, --help    show this help

Exit code: 0 done; 1 the rollups were inexact, a deadlock or serialization
failure happened, or an error; 2 bad arguments; 3 no database.
`;

const DATABASES = { baseline: 'tanktop_bench_baseline', rollups: 'tanktop_bench_rollups' } as const;
const ROLLUP_TRIGGERS = ['_500_record_stats_on_insert', '_500_record_stats_on_update', '_500_record_stats_on_delete', '_500_clear_stats_on_truncate'];

/** The dimension tables, fixed whatever --scale: the cost of the rollups depends on how many keys there are. */
const DIMENSIONS: SeedOptions = {
  sales: 0, agents: 50, products: 2_000, customers: 100_000, days: 365, seed: 42,
  // A fixed last day, not today: the same data on every run.
  endDay: '2025-12-31', append: false,
};
const FULL = { copyRows: 1_000_000, insertSelectBatches: 10, insertSelectRows: 100_000, updateRows: 100_000 };
const CONCURRENCY = 8;
const ROWS_PER_MULTI_ROW_INSERT = 100;
const FOLD_INTERVAL_MS = 1_000;
const TARGETS = { verifySeconds: 10, rebuildSeconds: 15 };
/** The issue's targets for rollups/baseline, per case (higher is better). */
const RATIO_TARGETS: Record<string, number> = { a: 0.8, b: 0.75, c: 0.7, d: 0.65, c2: 0.6, e: 0.5 };
const SALE_COLUMNS = ['customer_id', 'product_id', 'sales_agent_id', 'price', 'created_at', 'updated_at'];
const DAY_MS = 86_400_000;
/** Upper bounds for loops that normally end by time: no run of this benchmark lasts hours. */
const MAX_LOOP_MS = 4 * 3_600_000;
const MAX_STATEMENTS_PER_WORKER = 100_000_000;

class UsageError extends Error {}

interface BenchOptions {
  scale: number;
  seconds: number;
  repeat: number;
  keep: boolean;
}

type SideName = keyof typeof DATABASES;

/** One of the two databases under test. */
interface Side {
  readonly name: SideName;
  readonly url: string;
  readonly pool: pg.Pool;
  /** The rollup triggers are installed, so the background fold runs during its cases. */
  readonly rollups: boolean;
}

/** The dimension rows, read back from the database: the same ids in both. */
interface Entities {
  agentIds: string[];
  productIds: string[];
  productPrices: string[];
  customerIds: string[];
}

interface Tally {
  rows: number;
  statements: number;
  deadlocks: number;
  serializationFailures: number;
}

interface FoldCall {
  start: number;
  end: number;
  folded: number;
}

interface Run extends Tally {
  ms: number;
  /**
   * Rollups only: the folding still due when the case's last statement
   * returned (the tail of a background fold in flight, plus a final fold).
   */
  postFoldMs: number;
  /** Rollups only: the background folds during the case. */
  folds: FoldCall[];
}

interface CaseResult {
  key: string;
  title: string;
  /** Bulk cases run once and also get the ratio including the fold after them. */
  bulk: boolean;
  runs: Record<SideName, Run[]>;
}

interface Maintenance {
  sales: number;
  foldAfterCopyMs: number;
  verifyMs: number;
  verifyDifferences: number;
  rebuildMs: number;
  rebuiltRows: number;
}

// ---------------------------------------------------------------------------
// Command line

function parseOptions(argv: string[]): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        scale: { type: 'string' }, seconds: { type: 'string' }, repeat: { type: 'string' },
        keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  return {
    scale: numberFlag('--scale', v.scale, 1, (x) => x > 0 && x <= 1, 'a number above 0 and at most 1'),
    seconds: numberFlag('--seconds', v.seconds, 15, (x) => x > 0 && x <= 3_600, 'a number of seconds above 0 and at most 3600'),
    repeat: numberFlag('--repeat', v.repeat, 3, (x) => Number.isInteger(x) && x >= 1 && x <= 100, 'a whole number from 1 to 100'),
    keep: v.keep ?? false,
  };
}

function numberFlag(flag: string, raw: string | undefined, fallback: number, valid: (x: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !valid(value)) throw new UsageError(`${flag} takes ${expected}, not "${raw}"`);
  return value;
}

// ---------------------------------------------------------------------------
// Progress and arithmetic

const benchStarted = performance.now();

/** A progress line on stderr, stamped with the time since the start. */
function note(message: string): void {
  const seconds = Math.floor((performance.now() - benchStarted) / 1000);
  const stamp = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  process.stderr.write(`[${stamp}] ${message}\n`);
}

const int = (n: number) => Math.round(n).toLocaleString('en');
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (run: Run) => run.rows / (run.ms / 1000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function scaled(full: number, scale: number): number {
  return Math.max(1, Math.round(full * scale));
}

// ---------------------------------------------------------------------------
// The two databases

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  await withOneOffClient(adminUrl, (client) => client.query(text));
}

async function dropDatabases(adminUrl: string): Promise<void> {
  for (const name of Object.values(DATABASES)) await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
}

/**
 * Creates both databases afresh (a kept pair from an earlier --keep run is
 * dropped first), migrates them, and removes the rollup triggers from the
 * baseline. Everything else, _100_set_updated_at included, stays in both.
 */
async function createSides(adminUrl: string, log: Logger): Promise<Side[]> {
  await dropDatabases(adminUrl);
  const sides: Side[] = [];
  try {
    for (const name of ['baseline', 'rollups'] as const) {
      await adminQuery(adminUrl, `create database ${DATABASES[name]}`);
      const url = urlWithDatabase(adminUrl, DATABASES[name]);
      await migrate(url, 'up', log);
      const side: Side = { name, url, pool: createPool(url, log, { max: 4 }), rollups: name === 'rollups' };
      sides.push(side);
      if (!side.rollups) {
        for (const trigger of ROLLUP_TRIGGERS) await side.pool.query(`drop trigger ${trigger} on sales`);
      }
    }
    await checkTriggers(sides[0]!, sides[1]!);
    return sides;
  } catch (error) {
    await Promise.all(sides.map((side) => side.pool.end())); // the caller never gets them to close
    throw error;
  }
}

/**
 * The baseline must differ from the real schema by the rollup triggers and
 * nothing else: every other trigger on sales (_100_set_updated_at, and any
 * added later) stays in both.
 */
async function checkTriggers(baseline: Side, rollups: Side): Promise<void> {
  const [inBaseline, inRollups] = await Promise.all([salesTriggers(baseline.pool), salesTriggers(rollups.pool)]);
  const missing = ROLLUP_TRIGGERS.filter((trigger) => !inRollups.includes(trigger));
  const others = inRollups.filter((trigger) => !ROLLUP_TRIGGERS.includes(trigger));
  if (missing.length > 0 || !others.includes('_100_set_updated_at') || others.join() !== inBaseline.join()) {
    throw new Error(`unexpected triggers on sales: baseline has ${inBaseline.join(', ') || 'none'}; rollups has ${inRollups.join(', ')}`);
  }
}

async function salesTriggers(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ tgname: string }>(
    `select tgname from pg_trigger where tgrelid = 'sales'::regclass and not tgisinternal order by tgname`,
  );
  return rows.map((row) => row.tgname);
}

/** The same agents, products and customers in both, by the seeder (deterministic for its seed). */
async function seedDimensions(sides: Side[]): Promise<Entities> {
  for (const side of sides) {
    const progress = progressPrinter();
    await seed(side.pool, DIMENSIONS, ({ table, done, total }) => progress.update(`${side.name} ${table}`, done, total));
    progress.done(`${side.name}: ${int(DIMENSIONS.agents)} agents, ${int(DIMENSIONS.products)} products, ${int(DIMENSIONS.customers)} customers`);
  }
  const digests = await Promise.all(sides.map((side) => dimensionDigest(side.pool)));
  if (new Set(digests).size !== 1) throw new Error('the dimension tables differ between the two databases');
  return loadEntities(sides[0]!.pool);
}

/** One digest of every dimension row with its id: equal digests mean the same rows under the same ids. */
async function dimensionDigest(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ digest: string }>(`
    select md5(concat_ws(';',
      (select string_agg(concat_ws('|', id, name), ',' order by id) from sales_agents),
      (select string_agg(concat_ws('|', id, name, price), ',' order by id) from products),
      (select string_agg(concat_ws('|', id, name, email, telephone), ',' order by id) from customers))) as digest`);
  return rows[0]!.digest;
}

async function loadEntities(pool: pg.Pool): Promise<Entities> {
  const ids = async (table: string) => (await pool.query<{ id: string }>(`select id from ${table} order by id`)).rows.map((r) => r.id);
  const { rows: products } = await pool.query<{ id: string; price: string }>('select id, price from products order by id');
  const entities = {
    agentIds: await ids('sales_agents'),
    productIds: products.map((p) => p.id),
    productPrices: products.map((p) => p.price),
    customerIds: await ids('customers'),
  };
  // Case (e) moves each sale to the next agent by arithmetic on the id.
  const agents = entities.agentIds.map(Number);
  if (agents.at(-1)! - agents[0]! + 1 !== agents.length) throw new Error('agent ids are not contiguous');
  return entities;
}

// ---------------------------------------------------------------------------
// Measuring one run

let checkpointsAllowed = true;

/**
 * A checkpoint before every timed run: otherwise the dirty pages of one run
 * are written during the next, which would bill the baseline's load to the
 * rollups run (and back). Skipped when the user may not checkpoint.
 */
async function checkpoint(side: Side): Promise<void> {
  if (!checkpointsAllowed) return;
  try {
    await side.pool.query('checkpoint');
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    checkpointsAllowed = false;
    note('no permission to CHECKPOINT: runs start without one (noisier)');
  }
}

/**
 * The service's fold loop, on a connection of its own: a fold, then a pause
 * of FOLD_INTERVAL_MS, until stopped. stop() ends the pause at once, waits for
 * a fold in flight, and returns every call with its timing.
 */
async function startBackgroundFold(url: string): Promise<{ stop(): Promise<FoldCall[]> }> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  const calls: FoldCall[] = [];
  const step = createFoldStep(client); // the service's own step: fold, and vacuum the pending table when due
  const stopping = new AbortController();
  const loop = (async () => {
    const until = performance.now() + MAX_LOOP_MS;
    while (!stopping.signal.aborted && performance.now() < until) {
      try {
        await sleep(FOLD_INTERVAL_MS, undefined, { signal: stopping.signal });
      } catch {
        return; // stopped during the pause
      }
      const start = performance.now();
      const folded = await step();
      calls.push({ start, end: performance.now(), folded });
    }
  })();
  loop.catch(() => {}); // a failed fold is rethrown by stop(), not reported as unhandled
  return {
    async stop() {
      stopping.abort();
      try {
        await loop;
      } finally {
        await client.end();
      }
      return calls;
    },
  };
}

/** The part of the background folds that ran after `caseEnd` and had deltas to fold. */
function foldTimeAfter(calls: FoldCall[], caseEnd: number): number {
  let total = 0;
  for (const call of calls) if (call.folded > 0 && call.end > caseEnd) total += call.end - Math.max(call.start, caseEnd);
  return total;
}

async function timeQuery(pool: pg.Pool, text: string): Promise<{ ms: number; rows: Record<string, string>[] }> {
  const start = performance.now();
  const { rows } = await pool.query<Record<string, string>>(text);
  return { ms: performance.now() - start, rows };
}

/**
 * Times `work` on one side. On the rollups side the fold runs in the
 * background meanwhile, and right after it a final fold measures what the
 * run left to fold.
 */
async function timedRun(side: Side, work: () => Promise<Tally>): Promise<Run> {
  await checkpoint(side);
  const fold = side.rollups ? await startBackgroundFold(side.url) : undefined;
  const start = performance.now();
  let tally: Tally;
  let end: number;
  let folds: FoldCall[] = [];
  try {
    tally = await work();
    end = performance.now();
  } finally {
    folds = (await fold?.stop()) ?? [];
  }
  const finalFoldMs = side.rollups ? (await timeQuery(side.pool, 'select fold_daily_sales_stats()')).ms : 0;
  return { ...tally, ms: end - start, postFoldMs: side.rollups ? foldTimeAfter(folds, end) + finalFoldMs : 0, folds };
}

async function withClient<T>(side: Side, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await side.pool.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

/**
 * Before each case: fold what is pending, then vacuum and analyze both
 * databases, so neither starts the case with autovacuum due or stale planner
 * statistics from the previous one.
 */
async function settle(sides: Side[]): Promise<void> {
  note('settling: fold, vacuum (analyze)');
  for (const side of sides) {
    if (side.rollups) await side.pool.query('select fold_daily_sales_stats()');
    await side.pool.query('vacuum (analyze)');
  }
}

function reportRun(key: string, side: Side, run: Run, unit = 'rows'): void {
  const fold = side.rollups ? `, fold after ${secs(run.postFoldMs)}` : '';
  const errors = run.deadlocks + run.serializationFailures > 0
    ? `, ${run.deadlocks} deadlocks, ${run.serializationFailures} serialization failures` : '';
  note(`(${key}) ${side.name}: ${int(run.rows)} ${unit} in ${secs(run.ms)} = ${int(rate(run))} ${unit}/s${fold}${errors}`);
}

const bulkTally = (rows: number, statements: number): Tally => ({ rows, statements, deadlocks: 0, serializationFailures: 0 });

// ---------------------------------------------------------------------------
// Bulk cases: (a) COPY, (b) INSERT ... SELECT, (e) UPDATE

async function caseCopy(sides: Side[], entities: Entities, rows: number): Promise<CaseResult> {
  note(`(a) generating ${int(rows)} sale lines (seeder distribution, ${DIMENSIONS.days} days)`);
  // Generated up front so the timing holds the database's work, not faker's or ours.
  const lines = Array.from(saleCsvLines({ ...DIMENSIONS, sales: rows }, entities));
  const result = newCase('a', `(a) COPY of ${int(rows)} sales`, true);
  for (const side of sides) {
    note(`(a) COPY into ${side.name}`);
    const run = await withClient(side, (client) =>
      timedRun(side, async () => bulkTally(await copyCsvRows(client, 'sales', SALE_COLUMNS, lines), 1)));
    result.runs[side.name].push(run);
    reportRun('a', side, run);
  }
  return result;
}

/**
 * The rows come from an unlogged staging table in each database, loaded from
 * the same generated lines before the clock starts; each batch is one
 * statement over a range of its row numbers.
 */
async function caseInsertSelect(sides: Side[], entities: Entities, batches: number, batchRows: number): Promise<CaseResult> {
  const total = batches * batchRows;
  note(`(b) staging ${int(total)} rows in both databases`);
  for (const side of sides) {
    await side.pool.query(`create unlogged table bench_staging_sales (
      n bigint not null, customer_id bigint not null, product_id bigint not null, sales_agent_id bigint not null,
      price numeric(12, 2) not null, created_at timestamptz not null, updated_at timestamptz not null)`);
    // Another seed than (a)'s: other sales, the same distribution.
    const lines = saleCsvLines({ ...DIMENSIONS, seed: DIMENSIONS.seed + 1, sales: total }, entities);
    const numbered = (function* () {
      let n = 0;
      for (const line of lines) yield `${++n},${line}`;
    })();
    await withClient(side, (client) => copyCsvRows(client, 'bench_staging_sales', ['n', ...SALE_COLUMNS], numbered));
    await side.pool.query('create index on bench_staging_sales (n)');
    await side.pool.query('analyze bench_staging_sales');
  }

  const result = newCase('b', `(b) INSERT ... SELECT, ${batches} x ${int(batchRows)} rows`, true);
  const insert = `insert into sales (${SALE_COLUMNS.join(', ')})
    select ${SALE_COLUMNS.join(', ')} from bench_staging_sales where n between $1 and $2`;
  for (const side of sides) {
    note(`(b) ${batches} batches into ${side.name}`);
    const run = await withClient(side, (client) =>
      timedRun(side, async () => {
        let rows = 0;
        for (let batch = 0; batch < batches; batch++) {
          rows += (await client.query(insert, [batch * batchRows + 1, (batch + 1) * batchRows])).rowCount ?? 0;
        }
        return bulkTally(rows, batches);
      }));
    result.runs[side.name].push(run);
    reportRun('b', side, run);
  }
  for (const side of sides) await side.pool.query('drop table bench_staging_sales');
  return result;
}

/** One statement moving `rows` sales of (a) to another price and to the next agent. */
async function caseUpdate(sides: Side[], entities: Entities, rows: number): Promise<CaseResult> {
  const firstIds = await Promise.all(sides.map(async (side) => (await side.pool.query<{ id: string }>('select min(id) as id from sales')).rows[0]!.id));
  if (new Set(firstIds).size !== 1) throw new Error(`the first sale ids differ: ${firstIds.join(' vs ')}`);
  const from = Number(firstIds[0]);
  const result = newCase('e', `(e) UPDATE of ${int(rows)} sales (price and agent)`, true);
  const update = `update sales
    set price = round(price * 1.1, 2),
        sales_agent_id = $3::bigint + (sales_agent_id - $3::bigint + 1) % $4::bigint
    where id between $1 and $2`;
  const params = [from, from + rows - 1, entities.agentIds[0], entities.agentIds.length];
  for (const side of sides) {
    note(`(e) UPDATE on ${side.name}`);
    const run = await withClient(side, (client) =>
      timedRun(side, async () => bulkTally((await client.query(update, params)).rowCount ?? 0, 1)));
    if (run.rows !== rows) throw new Error(`(e) updated ${run.rows} rows on ${side.name}, expected ${rows}`);
    result.runs[side.name].push(run);
    reportRun('e', side, run);
  }
  return result;
}

// ---------------------------------------------------------------------------
// Concurrent cases: (c) spread single rows, (d) hot-key single rows, (c2) 100-row statements

type SaleRow = [customerId: string, productId: string, agentId: string, price: string, createdAt: string];

/** Uniformly random keys over every entity and every day of the span. */
function spreadSales(entities: Entities, random: Random): () => SaleRow {
  const firstDayMs = Date.parse(`${DIMENSIONS.endDay}T00:00:00Z`) - (DIMENSIONS.days - 1) * DAY_MS;
  const pick = (ids: string[]) => ids[random.int(0, ids.length - 1)]!;
  return () => {
    const product = random.int(0, entities.productIds.length - 1);
    const at = firstDayMs + random.int(0, DIMENSIONS.days - 1) * DAY_MS + random.int(0, DAY_MS - 1);
    return [pick(entities.customerIds), entities.productIds[product]!, pick(entities.agentIds),
      entities.productPrices[product]!, new Date(at).toISOString()];
  };
}

/** One agent, one product, one customer, one day: every writer on the same rollup keys. */
function hotSales(entities: Entities, random: Random): () => SaleRow {
  const dayMs = Date.parse(`${DIMENSIONS.endDay}T00:00:00Z`);
  return () => [entities.customerIds[0]!, entities.productIds[0]!, entities.agentIds[0]!, entities.productPrices[0]!,
    new Date(dayMs + random.int(0, DAY_MS - 1)).toISOString()];
}

const INSERT_ONE = {
  name: 'bench_insert_one',
  text: `insert into sales (customer_id, product_id, sales_agent_id, price, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)`,
};
const INSERT_MANY = {
  name: 'bench_insert_many',
  text: `insert into sales (customer_id, product_id, sales_agent_id, price, created_at, updated_at)
         select c, p, a, price, at, at
         from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::numeric[], $5::timestamptz[]) as r(c, p, a, price, at)`,
};

/** Column arrays for INSERT_MANY. */
function columns(rows: SaleRow[]): string[][] {
  return [0, 1, 2, 3, 4].map((i) => rows.map((row) => row[i]!));
}

/**
 * One connection's autocommit inserts until the deadline. Deadlocks and
 * serialization failures are counted (the design says there are none) and
 * the worker goes on; any other error ends the benchmark.
 */
async function insertUntil(client: pg.Client, next: () => SaleRow, rowsPerStatement: number, deadline: number, tally: Tally): Promise<void> {
  for (let i = 0; i < MAX_STATEMENTS_PER_WORKER && performance.now() < deadline; i++) {
    const rows = Array.from({ length: rowsPerStatement }, next);
    try {
      if (rowsPerStatement === 1) await client.query({ ...INSERT_ONE, values: rows[0] });
      else await client.query({ ...INSERT_MANY, values: columns(rows) });
      tally.rows += rows.length;
      tally.statements++;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === SqlState.deadlockDetected) tally.deadlocks++;
      else if (code === SqlState.serializationFailure) tally.serializationFailures++;
      else throw error;
    }
  }
}

interface ConcurrentCase {
  key: string;
  title: string;
  rowsPerStatement: number;
  keys: (entities: Entities, random: Random) => () => SaleRow;
}

/**
 * --repeat rounds of baseline then rollups. Worker w of round r draws from
 * the same seeded stream on both sides, so both get the same keys in the same
 * order (as far as each gets in the time).
 */
async function caseConcurrent(sides: Side[], entities: Entities, spec: ConcurrentCase, options: BenchOptions): Promise<CaseResult> {
  const result = newCase(spec.key, spec.title, false);
  const unit = spec.rowsPerStatement === 1 ? 'commits' : 'rows';
  for (let round = 0; round < options.repeat; round++) {
    for (const side of sides) {
      note(`(${spec.key}) ${side.name}, run ${round + 1}/${options.repeat}: ${CONCURRENCY} connections for ${options.seconds} s`);
      const clients = await openClients(side.url, CONCURRENCY);
      try {
        const run = await timedRun(side, async () => {
          const tally: Tally = { rows: 0, statements: 0, deadlocks: 0, serializationFailures: 0 };
          const deadline = performance.now() + options.seconds * 1000;
          await Promise.all(clients.map((client, worker) =>
            insertUntil(client, spec.keys(entities, seededRandom(1_000 + round * 100 + worker)), spec.rowsPerStatement, deadline, tally)));
          return tally;
        });
        result.runs[side.name].push(run);
        reportRun(spec.key, side, run, unit);
      } finally {
        await Promise.all(clients.map((client) => client.end()));
      }
    }
  }
  return result;
}

/** Connections opened before the clock starts, one per worker. */
async function openClients(url: string, count: number): Promise<pg.Client[]> {
  const clients = Array.from({ length: count }, () => new pg.Client({ connectionString: url }));
  for (const client of clients) client.on('error', () => {});
  await Promise.all(clients.map((client) => client.connect()));
  return clients;
}

// ---------------------------------------------------------------------------
// (f) maintenance at the size of (a), and the closing check

async function measureMaintenance(rollups: Side, foldAfterCopyMs: number): Promise<Maintenance> {
  const { rows } = await rollups.pool.query<{ n: string }>('select count(*) as n from sales');
  const sales = Number(rows[0]!.n);
  note(`(f) verify and full rebuild at ${int(sales)} sales`);
  await checkpoint(rollups);
  const fold = await startBackgroundFold(rollups.url); // as in production; the rebuild's lock makes it wait its turn
  try {
    const verify = await timeQuery(rollups.pool, 'select count(*) as n from verify_daily_sales_stats()');
    const rebuild = await timeQuery(rollups.pool, 'select rebuild_daily_sales_stats() as n');
    const result = {
      sales, foldAfterCopyMs,
      verifyMs: verify.ms, verifyDifferences: Number(verify.rows[0]!.n),
      rebuildMs: rebuild.ms, rebuiltRows: Number(rebuild.rows[0]!.n),
    };
    note(`(f) verify ${secs(result.verifyMs)} (${result.verifyDifferences} differences), rebuild ${secs(result.rebuildMs)} (${int(result.rebuiltRows)} rollup rows)`);
    return result;
  } finally {
    await fold.stop();
  }
}

async function finalDifferences(rollups: Side): Promise<{ differences: number; sales: number }> {
  const { rows } = await rollups.pool.query<{ n: string; sales: string }>(
    'select (select count(*) from verify_daily_sales_stats()) as n, (select count(*) from sales) as sales');
  return { differences: Number(rows[0]!.n), sales: Number(rows[0]!.sales) };
}

// ---------------------------------------------------------------------------
// Report

function newCase(key: string, title: string, bulk: boolean): CaseResult {
  return { key, title, bulk, runs: { baseline: [], rollups: [] } };
}

function errorsOf(result: CaseResult): { deadlocks: number; serializationFailures: number } {
  const all = [...result.runs.baseline, ...result.runs.rollups];
  return {
    deadlocks: all.reduce((sum, run) => sum + run.deadlocks, 0),
    serializationFailures: all.reduce((sum, run) => sum + run.serializationFailures, 0),
  };
}

function tableRow(result: CaseResult): string {
  const baseline = median(result.runs.baseline.map(rate));
  const rollups = median(result.runs.rollups.map(rate));
  const ratio = rollups / baseline;
  let inclFold = '—';
  const wanted = RATIO_TARGETS[result.key];
  let target = wanted === undefined ? '—' : `>= ${wanted.toFixed(2)} ${ratio >= wanted ? '✓' : '✗'}`;
  if (result.bulk) {
    const [b, r] = [result.runs.baseline[0]!, result.runs.rollups[0]!];
    inclFold = (b.ms / (r.ms + r.postFoldMs)).toFixed(2);
  } else {
    const { deadlocks, serializationFailures } = errorsOf(result);
    target += `, 0 deadlocks / serialization failures ${deadlocks + serializationFailures === 0 ? '✓' : `✗ (${deadlocks} / ${serializationFailures})`}`;
  }
  return `| ${result.title} | ${int(baseline)} | ${int(rollups)} | ${ratio.toFixed(2)} | ${inclFold} | ${target} |`;
}

function foldNote(result: CaseResult): string {
  const runs = result.runs.rollups;
  const calls = runs.flatMap((run) => run.folds);
  const busy = calls.filter((call) => call.folded > 0);
  const longest = Math.max(0, ...calls.map((call) => call.end - call.start));
  const after = result.bulk ? `; fold right after the case ${secs(runs[0]!.postFoldMs)}` : '';
  return `(${result.key}) background folds (rollups, ${runs.length} run${runs.length === 1 ? '' : 's'}): ${calls.length} calls, ${busy.length} with deltas, ` +
    `longest ${secs(longest)}${after}`;
}

function printReport(header: string, results: CaseResult[], maintenance: Maintenance, final: { differences: number; sales: number }): void {
  const check = (ok: boolean) => (ok ? '✓' : '✗');
  const lines = [
    '',
    `## Ingest: baseline (no rollup triggers) vs rollups (full schema, fold every ${FOLD_INTERVAL_MS / 1000} s)`,
    '',
    header,
    '',
    '| case | baseline rows/s | rollups rows/s | ratio | ratio incl. fold | target |',
    '|---|---:|---:|---:|---:|---|',
    ...results.map(tableRow),
    '',
    'Notes:',
    `- ratio = rollups rows/s ÷ baseline rows/s (medians of the runs for c, d, c2); incl. fold (bulk cases) = baseline time ÷ (rollups time + the folding right after the case). (c) and (d) commit one row per statement, so their rows/s are commits/s.`,
    `- (f) at ${int(maintenance.sales)} sales: verify_daily_sales_stats() ${secs(maintenance.verifyMs)} (target < ${TARGETS.verifySeconds} s ${check(maintenance.verifyMs < TARGETS.verifySeconds * 1000)}, ${maintenance.verifyDifferences} differences); ` +
      `full rebuild_daily_sales_stats() ${secs(maintenance.rebuildMs)} (target < ${TARGETS.rebuildSeconds} s ${check(maintenance.rebuildMs < TARGETS.rebuildSeconds * 1000)}, ${int(maintenance.rebuiltRows)} rollup rows); ` +
      `fold after (a) ${secs(maintenance.foldAfterCopyMs)}.`,
    ...results.filter((r) => !r.bulk).map((r) => {
      const errors = (side: SideName) => `${r.runs[side].reduce((s, run) => s + run.deadlocks, 0)} / ${r.runs[side].reduce((s, run) => s + run.serializationFailures, 0)}`;
      const rates = (side: SideName) => r.runs[side].map((run) => int(rate(run))).join(', ');
      return `- (${r.key}) deadlocks (40P01) / serialization failures (40001): baseline ${errors('baseline')}, rollups ${errors('rollups')}; ` +
        `rows/s per run: baseline ${rates('baseline')}; rollups ${rates('rollups')}.`;
    }),
    ...results.map((r) => `- ${foldNote(r)}.`),
    `- verify after all cases: ${final.differences} differing rows over ${int(final.sales)} sales ${check(final.differences === 0)}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

// ---------------------------------------------------------------------------
// Main

async function runBenchmark(options: BenchOptions): Promise<number> {
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn', 'bench');
  note('opening the database server');
  const database = await openDatabase(config, log);
  let sides: Side[] = [];
  try {
    note(`creating and migrating ${Object.values(DATABASES).join(' and ')}`);
    sides = await createSides(database.adminUrl, log);
    const [baseline, rollups] = sides as [Side, Side];
    const { rows } = await baseline.pool.query<{ server_version: string }>('show server_version');
    const header = `PostgreSQL ${rows[0]!.server_version} at ${describeTarget(database.adminUrl)}${config.databaseUrl ? '' : ' (embedded)'}, ` +
      `${os.availableParallelism()} cores; --scale ${options.scale}, --seconds ${options.seconds}, --repeat ${options.repeat}; ` +
      `${int(DIMENSIONS.agents)} agents, ${int(DIMENSIONS.products)} products, ${int(DIMENSIONS.customers)} customers.`;
    note('seeding the dimension tables');
    const entities = await seedDimensions(sides);

    const results: CaseResult[] = [];
    await settle(sides);
    const copy = await caseCopy(sides, entities, scaled(FULL.copyRows, options.scale));
    results.push(copy);
    await settle(sides);
    const maintenance = await measureMaintenance(rollups, copy.runs.rollups[0]!.postFoldMs);
    await settle(sides);
    results.push(await caseInsertSelect(sides, entities, FULL.insertSelectBatches, scaled(FULL.insertSelectRows, options.scale)));
    const concurrent: ConcurrentCase[] = [
      { key: 'c', title: `(c) single-row INSERTs, ${CONCURRENCY} connections, spread keys`, rowsPerStatement: 1, keys: spreadSales },
      { key: 'd', title: `(d) single-row INSERTs, ${CONCURRENCY} connections, one hot key`, rowsPerStatement: 1, keys: hotSales },
      { key: 'c2', title: `(c2) ${ROWS_PER_MULTI_ROW_INSERT}-row INSERTs, ${CONCURRENCY} connections, spread keys`, rowsPerStatement: ROWS_PER_MULTI_ROW_INSERT, keys: spreadSales },
    ];
    for (const spec of concurrent) {
      await settle(sides);
      results.push(await caseConcurrent(sides, entities, spec, options));
    }
    await settle(sides);
    results.push(await caseUpdate(sides, entities, scaled(FULL.updateRows, options.scale)));

    note('verifying the rollups after all cases');
    const final = await finalDifferences(rollups);
    printReport(header, results, maintenance, final);
    const errors = results.reduce((sum, r) => sum + errorsOf(r).deadlocks + errorsOf(r).serializationFailures, 0);
    return final.differences === 0 && maintenance.verifyDifferences === 0 && errors === 0 ? 0 : 1;
  } finally {
    await Promise.all(sides.map((side) => side.pool.end()));
    if (options.keep) note(`kept ${Object.values(DATABASES).join(' and ')}`);
    else await dropDatabases(database.adminUrl).catch((error: unknown) => note(`could not drop the bench databases: ${String(error)}`));
    await database.close();
  }
}

async function main(argv: string[]): Promise<number> {
  try {
    const options = parseOptions(argv);
    if (options === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    return await runBenchmark(options);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench:ingest: ${error.message} (see --help)\n`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof DatabaseUnavailableError) {
      process.stderr.write(`bench:ingest: ${error.message}\n`);
      return 3;
    }
    process.stderr.write(`bench:ingest: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
