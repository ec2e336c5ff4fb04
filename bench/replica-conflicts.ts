/**
 * `npm run bench:replica-conflicts`: what the fold's deletes and the vacuum of
 * the rollup tables do to long stats reads on a streaming replica, and what
 * the replica does back to the primary (docs/replicas.md).
 *
 * For each setup, a fresh primary and replica of the run's PostgreSQL version
 * (test/helpers/replica.ts) with max_standby_streaming_delay at --delay-ms
 * (default 1000, so a conflict ends in a cancellation within the run instead
 * of after Postgres's default 30 s). For --seconds (default 20): on the
 * primary, sales written in batches, folded and both rollup tables vacuumed
 * every 500 ms, as the service's fold loop does under load; on the replica,
 * --readers (default 2) long reads in a loop, each the shape of a CSV export
 * (one repeatable-read transaction: the pending deltas, a pause of --hold-ms,
 * default 3000, then the folded rows). Counted: long reads done and cancelled
 * ("conflict with recovery"), and on the primary the dead rows vacuum could
 * not remove (the replica's feedback holding them) and the pending table's
 * size.
 *
 * Setups: hot_standby_feedback off; on; on with the pending table's
 * vacuum_truncate reset to Postgres's default (the migrations set it off):
 * the last shows the ACCESS EXCLUSIVE lock of truncation, which feedback does
 * not prevent.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { launchReplicaPair, serverMajor } from '../test/helpers/replica.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';

const USAGE = 'Usage: npm run bench:replica-conflicts -- [--seconds 20] [--readers 2] [--hold-ms 3000] [--delay-ms 1000]';
const { values } = parseArgs({ options: {
  seconds: { type: 'string', default: '20' }, readers: { type: 'string', default: '2' },
  'hold-ms': { type: 'string', default: '3000' }, 'delay-ms': { type: 'string', default: '1000' }, help: { type: 'boolean', short: 'h' },
} });
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const [seconds, readers, holdMs, delayMs] = [values.seconds, values.readers, values['hold-ms'], values['delay-ms']].map(Number) as [number, number, number, number];
if (![seconds, readers, holdMs, delayMs].every((n) => Number.isInteger(n) && n > 0)) {
  process.stderr.write(`bench:replica-conflicts: every option is a whole number above 0\n${USAGE}\n`);
  process.exit(2);
}

const say = (text: string) => process.stderr.write(`${text}\n`);
const log = createLogger('silent');

/** The version to run: that of the server the other benchmarks use (DATABASE_URL, else the embedded one). */
async function runServerMajor(): Promise<number> {
  const server = await openDatabase(loadConfig(), log);
  try {
    return await serverMajor(server.adminUrl);
  } finally {
    await server.close();
  }
}

interface Setup { label: string; feedback: boolean; truncate: boolean }
const setups: Setup[] = [
  { label: 'hot_standby_feedback off', feedback: false, truncate: false },
  { label: 'hot_standby_feedback on', feedback: true, truncate: false },
  { label: 'hot_standby_feedback on, pending vacuum_truncate on', feedback: true, truncate: true },
];
interface Outcome { label: string; reads: number; cancelled: number; otherErrors: number; peakDeadPending: number; peakDeadFolded: number; peakPendingKb: number; folds: number }

const major = await runServerMajor();
const outcomes: Outcome[] = [];
for (const setup of setups) outcomes.push(await measure(setup));
printTable();

async function measure(setup: Setup): Promise<Outcome> {
  say(`${setup.label}: starting a PostgreSQL ${major} primary and replica…`);
  const pair = await launchReplicaPair({ major, hotStandbyFeedback: setup.feedback, maxStandbyStreamingDelayMs: delayMs });
  const primary = new pg.Pool({ connectionString: pair.primaryUrl, max: 4 });
  const replica = new pg.Pool({ connectionString: pair.replicaUrl, max: readers + 1 });
  for (const pool of [primary, replica]) pool.on('error', () => {});
  try {
    await primary.query(`insert into sales_agents (name) select 'Agent ' || i from generate_series(1, 50) as i`);
    await primary.query(`insert into products (name, price) select 'Product ' || i, i from generate_series(1, 200) as i`);
    await primary.query(`insert into customers (name, email) select 'Customer ' || i, 'c' || i || '@example.com' from generate_series(1, 2000) as i`);
    if (setup.truncate) await primary.query('alter table daily_sales_stats_pending reset (vacuum_truncate)');
    await pair.waitForReplay();

    const until = Date.now() + seconds * 1000;
    const outcome: Outcome = { label: setup.label, reads: 0, cancelled: 0, otherErrors: 0, peakDeadPending: 0, peakDeadFolded: 0, peakPendingKb: 0, folds: 0 };
    say(`${setup.label}: ${seconds} s of writes, folds and vacuums on the primary, ${readers} long reads at a time on the replica`);
    await Promise.all([
      writeAndFold(primary, until, outcome),
      ...Array.from({ length: readers }, () => longReads(replica, until, outcome)),
    ]);
    return outcome;
  } finally {
    await primary.end();
    await replica.end();
    await pair.close();
  }
}

/** Batches of sales, and every 500 ms a fold and a vacuum of both rollup tables; the dead rows vacuum had to leave, at their peak. */
async function writeAndFold(pool: pg.Pool, until: number, outcome: Outcome): Promise<void> {
  let lastFold = Date.now();
  while (Date.now() < until) {
    await pool.query(`
      insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
      select (select min(id) from customers) + (random() * 1999)::int, (select min(id) from products) + (random() * 199)::int,
             (select min(id) from sales_agents) + (random() * 49)::int, 9.99, now() - random() * interval '30 days'
      from generate_series(1, 200)`);
    if (Date.now() - lastFold >= 500) {
      lastFold = Date.now();
      await pool.query('select fold_daily_sales_stats()');
      await pool.query('vacuum daily_sales_stats_pending, daily_sales_stats_folded');
      outcome.folds++;
      const { rows } = await pool.query<{ relname: string; dead: string; kb: string }>(`
        select relname, n_dead_tup as dead, pg_relation_size(relid) / 1024 as kb from pg_stat_user_tables
        where relname in ('daily_sales_stats_pending', 'daily_sales_stats_folded')`);
      for (const row of rows) {
        if (row.relname === 'daily_sales_stats_pending') {
          outcome.peakDeadPending = Math.max(outcome.peakDeadPending, Number(row.dead));
          outcome.peakPendingKb = Math.max(outcome.peakPendingKb, Number(row.kb));
        } else {
          outcome.peakDeadFolded = Math.max(outcome.peakDeadFolded, Number(row.dead));
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Long reads in the shape of a CSV export: one repeatable-read snapshot held across reads of both rollup tables. */
async function longReads(pool: pg.Pool, until: number, outcome: Outcome): Promise<void> {
  while (Date.now() < until) {
    const client = await pool.connect();
    // A conflict that ends the session between two statements is an 'error' event on the checked-out client.
    const ended = () => {};
    client.on('error', ended);
    let failed = false;
    try {
      await client.query('begin isolation level repeatable read read only');
      await client.query(`select count(*), sum(total_price) from daily_sales_stats_pending`);
      await client.query('select pg_sleep($1)', [holdMs / 1000]);
      await client.query(`select count(*), sum(total_price) from daily_sales_stats_folded`);
      await client.query('commit');
      outcome.reads++;
    } catch (error) {
      failed = true;
      const text = (error as Error).message;
      if (/conflict with recovery/.test(text)) outcome.cancelled++;
      else outcome.otherErrors++;
      await client.query('rollback').catch(() => {});
    } finally {
      // A conflict may have ended the session too: a failed read's connection is not given back.
      client.removeListener('error', ended);
      client.release(failed);
    }
  }
}

function printTable(): void {
  const out = [
    '', `PostgreSQL ${major}; ${seconds} s a setup; ${readers} readers holding a snapshot ${holdMs} ms each; max_standby_streaming_delay ${delayMs} ms.`, '',
    '| setup | long reads done | cancelled (conflict with recovery) | other errors | folds + vacuums | peak dead rows kept: pending | peak dead rows kept: folded | peak pending size (kB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...outcomes.map((o) => `| ${o.label} | ${o.reads} | ${o.cancelled} | ${o.otherErrors} | ${o.folds} | ${o.peakDeadPending} | ${o.peakDeadFolded} | ${o.peakPendingKb} |`),
  ];
  process.stdout.write(out.join('\n') + '\n');
}
