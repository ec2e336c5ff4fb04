/**
 * `npm run bench:pages`: how fast the stats pages are, and how much faster
 * than computing the same numbers by GROUP BY over sales.
 *
 * For each scale (default 1,000,000 then 10,000,000 sales) a database
 * tanktop_bench_pages_<sales> is seeded once and reused by later runs. The app
 * is served on it, signed in, and autocannon (10 connections, 15 s) loads the
 * 30-day agents, products and customers pages and a 304 revalidation. The
 * baseline, in the same run: the same page's rows and totals by GROUP BY over
 * sales, run as SQL only (no rendering, which flatters the baseline), by 10
 * concurrent connections for the same time. Progress on stderr, results on stdout.
 *
 * --via-pgbouncer: instead, the agents page served three ways in alternating
 * rounds (--rounds, default 3; medians): directly with named prepared
 * statements (DATABASE_POOLING=session), directly with unnamed ones, and
 * through a PgBouncer in transaction mode started for the run
 * (DATABASE_POOLING=transaction): what transaction pooling costs, and how
 * much of it is the unnamed statements rather than the extra hop.
 *
 * --via-replica: the agents page read from the primary and from a streaming
 * replica (DATABASE_READ_URL), in alternating rounds (medians). The pair is
 * a primary and replica of the server's PostgreSQL version made for the
 * benchmark (test/helpers/replica.ts) and kept in .data/bench-replica-<major>,
 * so its seeded database is reused by later runs; both sides are that pair's
 * servers, so only the server read differs. The sign-in stays on the primary.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import type { DatabasePooling } from '../src/config.ts';
import { createDb } from '../src/db/kysely.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDatabaseIfMissing, openDatabase, urlWithDatabase } from '../src/db/open-database.ts';
import { withClient } from '../src/db/one-off-client.ts';
import { createPool } from '../src/db/pool.ts';
import { build } from '../src/http/app.ts';
import { createLogger } from '../src/logger.ts';
import { progressPrinter } from '../src/seed/progress.ts';
import { seed } from '../src/seed/seeder.ts';
import { rebuildRollups } from '../src/stats/stats-maintenance.repository.ts';
import { createReadRouting } from '../src/db/read-replicas.ts';
// The tests' PgBouncer launcher (a temporary ini, a free port, run as postgres when root).
import { launchPgBouncer } from '../test/helpers/pgbouncer.ts';
// The tests' primary-and-replica maker (initdb, a base backup, free ports, run as postgres when root).
import { launchReplicaPair, serverMajor, type ReplicaPair } from '../test/helpers/replica.ts';
import { addBenchUser, type Latency, load as loadUrl, percentile, signIn } from './shared/http-load.ts';

const USAGE = `Usage: npm run bench:pages -- [--sales 1000000,10000000] [--seconds 15] [--connections 10] [--via-pgbouncer | --via-replica] [--rounds 3]`;
const { values } = parseArgs({ options: {
  sales: { type: 'string', default: '1000000,10000000' }, seconds: { type: 'string', default: '15' },
  connections: { type: 'string', default: '10' }, help: { type: 'boolean', short: 'h' },
  'via-pgbouncer': { type: 'boolean', default: false }, 'via-replica': { type: 'boolean', default: false }, rounds: { type: 'string', default: '3' },
} });
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const scales = values.sales.split(',').map(Number);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const viaPgBouncer = values['via-pgbouncer'];
const viaReplica = values['via-replica'];
const rounds = Number(values.rounds);
if (scales.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0) || !(connections > 0) || !(Number.isInteger(rounds) && rounds > 0) || (viaPgBouncer && viaReplica)) {
  process.stderr.write(`bench:pages: bad arguments\n${USAGE}\n`);
  process.exit(2);
}

/** A fixed last day: the same data and the same 30-day range on every run. */
const END_DAY = '2025-12-31';
const FROM = '2025-12-02';
const log = createLogger('warn');
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', LOGIN_ATTEMPTS_PER_MINUTE: '10000' });
const server = await openDatabase(config, log);
/** --via-replica: the pair the benchmark reads, kept between runs; else none. */
let pair: ReplicaPair | undefined;
/** Where the benchmark's databases are: the server, or with --via-replica the pair's primary. */
let adminUrl = server.adminUrl;

interface Result extends Latency { label: string; scale: number }
const results: Result[] = [];
/** reply.elapsedTime of every response during the current load. */
const serverTimes: number[] = [];
const say = (text: string) => process.stderr.write(`${text}\n`);
const load = (url: string, headers: Record<string, string>) => loadUrl(url, headers, { connections, seconds, serverTimes, say });

try {
  if (viaReplica) {
    const major = await serverMajor(server.adminUrl);
    say(`starting the PostgreSQL ${major} primary and replica in .data/bench-replica-${major} (made once, then reused)…`);
    pair = await launchReplicaPair({ major, dir: path.resolve(import.meta.dirname, '..', '.data', `bench-replica-${major}`), hotStandbyFeedback: true });
    adminUrl = pair.primaryAdminUrl;
  }
  for (const sales of scales) await runScale(sales);
  printTable();
} finally {
  await pair?.close();
  await server.close();
}

async function runScale(sales: number): Promise<void> {
  const name = `tanktop_bench_pages_${sales}`;
  await dropUnlessSeeded(name, sales);
  await createDatabaseIfMissing(adminUrl, name);
  const url = urlWithDatabase(adminUrl, name);
  await migrate(url, 'up', log);
  const pool = createPool(url, log, { max: 12 });
  const db = createDb(pool);
  try {
    const { rows } = await pool.query<{ n: string }>('select count(*) as n from sales');
    if (Number(rows[0]!.n) !== sales) {
      say(`seeding ${sales.toLocaleString('en')} sales into ${name} (once; later runs reuse it)…`);
      // A fixture, loaded the way an operator adopts a database: rows first,
      // rollups after by one full rebuild (minutes faster at 10M than one
      // 10M-row statement's deltas and their fold). bench:ingest measures the
      // triggers; this benchmark measures the pages.
      await pool.query('alter table sales disable trigger _500_record_stats_on_insert');
      // Foreign keys are checked after the load, in one pass each (as pg_restore
      // does): per-row checks of 10M rows queue 30M trigger events (tens of minutes).
      const { rows: foreignKeys } = await pool.query<{ name: string; definition: string }>(`
        select conname as name, pg_get_constraintdef(oid) as definition
        from pg_constraint where conrelid = 'sales'::regclass and contype = 'f'`);
      for (const key of foreignKeys) await pool.query(`alter table sales drop constraint ${pg.escapeIdentifier(key.name)}`);
      try {
        const progress = progressPrinter();
        await seed(pool, { sales, agents: 50, products: 2_000, customers: 100_000, days: 365, seed: 42, endDay: END_DAY, append: false },
          ({ table, done, total }) => progress.update(table, done, total));
        progress.done('rebuilding the rollups and analysing…');
      } finally {
        for (const key of foreignKeys) {
          await pool.query(`alter table sales add constraint ${pg.escapeIdentifier(key.name)} ${key.definition}`);
        }
        await pool.query('alter table sales enable trigger _500_record_stats_on_insert');
      }
      await rebuildRollups(db);
      await pool.query('vacuum analyze');
    } else {
      say(`reusing ${name} (${sales.toLocaleString('en')} sales)`);
    }
    await addBenchUser(pool);
    if (viaPgBouncer) {
      await comparePooling(url, name, sales);
      return;
    }
    if (pair) {
      await compareReplica(pair, url, urlWithDatabase(pair.replicaAdminUrl, name), sales);
      return;
    }

    const app = await build(config, { pool, db, log });
    // Server latency, as the targets mean it: from request to reply
    // inside the app, apart from autocannon's queueing on this 2-core machine.
    app.addHook('onResponse', async (_request, reply) => {
      serverTimes.push(reply.elapsedTime);
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const cookie = await signIn(base);
      const pages = {
        agents: `/stats/agents?from=${FROM}&to=${END_DAY}`,
        products: `/stats/products?from=${FROM}&to=${END_DAY}`,
        customers: `/stats/customers?from=${FROM}&to=${END_DAY}&per_page=50`,
      };
      for (const [label, path] of Object.entries(pages)) {
        results.push({ label: `${label} page`, scale: sales, ...(await load(base + path, { cookie })) });
      }
      const first = await fetch(base + pages.agents, { headers: { cookie } });
      const etag = first.headers.get('etag') ?? '';
      const check = await fetch(base + pages.agents, { headers: { cookie, 'if-none-match': etag } });
      if (check.status !== 304) throw new Error(`expected a 304, got ${check.status}`);
      results.push({ label: 'agents 304', scale: sales, ...(await load(base + pages.agents, { cookie, 'if-none-match': etag })) });

      for (const [label, column] of [['agents', 'sales_agent_id'], ['products', 'product_id'], ['customers', 'customer_id']] as const) {
        const table = label === 'agents' ? 'sales_agents' : label;
        results.push({ label: `${label} GROUP BY`, scale: sales, ...(await baseline(pool, table, column)) });
      }
    } finally {
      await app.close();
    }
  } finally {
    await db.destroy().catch(() => {});
    if (!pool.ended) await pool.end();
  }
}

/** --via-pgbouncer: the agents page directly (named, then unnamed statements) and through PgBouncer, in alternating rounds. */
async function comparePooling(url: string, database: string, sales: number): Promise<void> {
  const bouncer = await launchPgBouncer({ serverUrl: server.adminUrl, poolMode: 'transaction', poolSize: 12 });
  const variants: { label: string; url: string; pooling: DatabasePooling }[] = [
    { label: 'agents, direct, named statements', url, pooling: 'session' },
    { label: 'agents, direct, unnamed statements', url, pooling: 'transaction' },
    { label: 'agents, via PgBouncer (transaction mode)', url: bouncer.url(database), pooling: 'transaction' },
  ];
  const samples = variants.map(() => [] as Latency[]);
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [i, variant] of variants.entries()) {
        say(`round ${round} of ${rounds}: ${variant.label}`);
        const pool = createPool(variant.url, log, { max: 12 });
        const db = createDb(pool, { pooling: variant.pooling });
        const app = await build(config, { pool, db, log });
        app.addHook('onResponse', async (_request, reply) => {
          serverTimes.push(reply.elapsedTime);
        });
        try {
          const base = await app.listen({ host: '127.0.0.1', port: 0 });
          const cookie = await signIn(base);
          samples[i]!.push(await load(`${base}/stats/agents?from=${FROM}&to=${END_DAY}`, { cookie }));
        } finally {
          await app.close();
          await db.destroy();
        }
      }
    }
  } finally {
    await bouncer.stop();
  }
  pushMedians(variants, samples, sales);
}

/** --via-replica: the agents page read from the primary, then from the replica, in alternating rounds. */
async function compareReplica(replicaPair: ReplicaPair, primaryUrl: string, replicaUrl: string, sales: number): Promise<void> {
  say('waiting for the replica to replay the seeding…');
  await replicaPair.waitForReplay(600_000);
  const variants = [
    { label: 'agents, from the primary', readUrl: '' },
    { label: 'agents, from a streaming replica', readUrl: replicaUrl },
  ];
  const samples = variants.map(() => [] as Latency[]);
  for (let round = 1; round <= rounds; round++) {
    for (const [i, variant] of variants.entries()) {
      say(`round ${round} of ${rounds}: ${variant.label}`);
      const pool = createPool(primaryUrl, log, { max: 12 });
      const db = createDb(pool);
      const variantConfig = loadConfig({ ...process.env, LOG_LEVEL: 'silent', LOGIN_ATTEMPTS_PER_MINUTE: '10000', DATABASE_READ_URL: variant.readUrl });
      const reads = createReadRouting({ primary: { pool, db }, config: variantConfig.readReplicas, pooling: 'session', log, poolSize: 12 });
      await reads.check();
      const app = await build(variantConfig, { pool, db, log, reads });
      app.addHook('onResponse', async (_request, reply) => {
        serverTimes.push(reply.elapsedTime);
      });
      try {
        const base = await app.listen({ host: '127.0.0.1', port: 0 });
        const cookie = await signIn(base);
        const url = `${base}/stats/agents?from=${FROM}&to=${END_DAY}`;
        const source = (await fetch(url, { headers: { cookie } })).headers.get('x-stats-source');
        const expected = variant.readUrl ? 'replica-1' : 'primary';
        if (source !== expected) throw new Error(`${variant.label}: the page was read from ${source}, not ${expected}`);
        samples[i]!.push(await load(url, { cookie }));
      } finally {
        await app.close();
        await reads.close();
        await db.destroy();
      }
    }
  }
  pushMedians(variants, samples, sales);
}

/** One result row per variant: the medians of its rounds. */
function pushMedians(variants: { label: string }[], samples: Latency[][], sales: number): void {
  const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
  for (const [i, variant] of variants.entries()) {
    const runs = samples[i]!;
    results.push({
      label: `${variant.label} (median of ${runs.length})`, scale: sales,
      rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)),
      serverP50: median(runs.map((r) => r.serverP50 ?? 0)), serverP99: median(runs.map((r) => r.serverP99 ?? 0)),
    });
  }
}

/**
 * A database left by an interrupted seeding (rows rolled back, foreign keys
 * dropped) is dropped, to be created afresh from the migrations.
 */
async function dropUnlessSeeded(name: string, sales: number): Promise<void> {
  await withClient(adminUrl, async (admin) => {
    if (!(await admin.query('select from pg_database where datname = $1', [name])).rowCount) return;
    const seeded = await withClient(urlWithDatabase(adminUrl, name), async (client) => {
      const { rows } = await client.query<{ n: string; keys: number }>(`
        select (select count(*) from sales) as n,
               (select count(*)::int from pg_constraint where conrelid = 'sales'::regclass and contype = 'f') as keys`)
        .catch(() => ({ rows: [] as { n: string; keys: number }[] }));
      return rows[0] !== undefined && Number(rows[0].n) === sales && rows[0].keys === 3;
    });
    if (!seeded) await admin.query(`drop database ${admin.escapeIdentifier(name)} with (force)`);
  });
}

/** The page's numbers by GROUP BY over sales: its 51 rows (one to tell whether a next page exists) and the range totals. */
async function baseline(pool: pg.Pool, table: string, column: string): Promise<Latency> {
  const rowsQuery = `
    select (s.created_at at time zone 'UTC')::date as day, s.${column} as entity_id, n.name, count(*), sum(s.price)
    from sales s join ${table} n on n.id = s.${column}
    where s.created_at >= $1::date and s.created_at < $2::date + 1
    group by 1, 2, 3 order by 1 desc, 2 desc limit 51`;
  const totalsQuery = `select count(*), sum(price) from sales where created_at >= $1::date and created_at < $2::date + 1`;
  say(`baseline GROUP BY over sales (${table}), ${connections} connections, ${seconds} s`);
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    do {
      const started = performance.now();
      await pool.query(rowsQuery, [FROM, END_DAY]);
      await pool.query(totalsQuery, [FROM, END_DAY]);
      latencies.push(performance.now() - started);
    } while (performance.now() < until);
  }));
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

function printTable(): void {
  const ms = (value: number | undefined) => (value === undefined ? '—' : value.toFixed(1));
  const out: string[] = ['', '| scale | case | req/s | client p50 ms | client p99 ms | server p50 ms | server p99 ms |', '|---:|---|---:|---:|---:|---:|---:|'];
  for (const r of results) {
    out.push(`| ${r.scale.toLocaleString('en')} | ${r.label} | ${r.rps.toFixed(1)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.serverP50)} | ${ms(r.serverP99)} |`);
  }
  if (viaReplica) {
    for (const scale of scales) {
      const direct = results.find((r) => r.scale === scale && r.label.startsWith('agents, from the primary'))!;
      const replica = results.find((r) => r.scale === scale && r.label.startsWith('agents, from a streaming replica'))!;
      out.push('', `- ${scale.toLocaleString('en')} sales: the replica's req/s ${(replica.rps / Math.max(direct.rps, 0.01)).toFixed(2)}x the primary's, client p99 ${(replica.p99 / Math.max(direct.p99, 0.01)).toFixed(2)}x, server p99 ${((replica.serverP99 ?? 0) / Math.max(direct.serverP99 ?? 0, 0.01)).toFixed(2)}x`);
    }
  }
  if (viaPgBouncer || viaReplica) {
    out.push('', `Medians of ${rounds} alternating rounds. Server columns: reply.elapsedTime inside the app.`);
    process.stdout.write(out.join('\n') + '\n');
    return;
  }
  out.push('', 'GROUP BY rows: the SQL alone, timed by the client (no rendering). Server columns: reply.elapsedTime inside the app.');
  out.push('', 'Ratios (rollup page vs GROUP BY baseline, by p50 latency and by req/s):');
  for (const scale of scales) {
    for (const label of ['agents', 'products', 'customers']) {
      const page = results.find((r) => r.scale === scale && r.label === `${label} page`)!;
      const group = results.find((r) => r.scale === scale && r.label === `${label} GROUP BY`)!;
      out.push(`- ${scale.toLocaleString('en')} sales, ${label}: ${(group.p50 / Math.max(page.serverP50 ?? page.p50, 0.01)).toFixed(1)}x faster (GROUP BY p50 vs page server p50), ${(page.rps / Math.max(group.rps, 0.01)).toFixed(1)}x the throughput`);
    }
  }
  if (scales.length > 1) {
    const [small, large] = [scales[0]!, scales.at(-1)!];
    for (const label of ['agents page', 'customers page', 'agents 304']) {
      const a = results.find((r) => r.scale === small && r.label === label)!;
      const b = results.find((r) => r.scale === large && r.label === label)!;
      out.push(`- ${label} p99 at ${large.toLocaleString('en')} vs ${small.toLocaleString('en')} sales: client ${(b.p99 / Math.max(a.p99, 0.01)).toFixed(2)}x, server ${((b.serverP99 ?? 0) / Math.max(a.serverP99 ?? 0, 0.01)).toFixed(2)}x`);
    }
  }
  process.stdout.write(out.join('\n') + '\n');
}
