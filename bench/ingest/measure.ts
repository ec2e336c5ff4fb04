/** Measuring one run on one side, with the service's fold running beside it on the rollups side. */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createFoldStep } from '../../src/stats/fold-step.ts';
import { FOLD_INTERVAL_MS, type FoldCall, MAX_LOOP_MS, type Run, type Side, type Tally } from './model.ts';
import { int, note, rate, secs } from './progress.ts';

export let checkpointsAllowed = true;

/**
 * A checkpoint before every timed run: otherwise the dirty pages of one run
 * are written during the next, which would bill the baseline's load to the
 * rollups run (and back). Skipped when the user may not checkpoint.
 */
export async function checkpoint(side: Side): Promise<void> {
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
export async function startBackgroundFold(url: string): Promise<{ stop(): Promise<FoldCall[]> }> {
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
export function foldTimeAfter(calls: FoldCall[], caseEnd: number): number {
  let total = 0;
  for (const call of calls) if (call.folded > 0 && call.end > caseEnd) total += call.end - Math.max(call.start, caseEnd);
  return total;
}

export async function timeQuery(pool: pg.Pool, text: string): Promise<{ ms: number; rows: Record<string, string>[] }> {
  const start = performance.now();
  const { rows } = await pool.query<Record<string, string>>(text);
  return { ms: performance.now() - start, rows };
}

/**
 * Times `work` on one side. On the rollups side the fold runs in the
 * background meanwhile, and right after it a final fold measures what the
 * run left to fold.
 */
export async function timedRun(side: Side, work: () => Promise<Tally>): Promise<Run> {
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

export async function withClient<T>(side: Side, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
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
export async function settle(sides: Side[]): Promise<void> {
  note('settling: fold, vacuum (analyze)');
  for (const side of sides) {
    if (side.rollups) await side.pool.query('select fold_daily_sales_stats()');
    await side.pool.query('vacuum (analyze)');
  }
}

export function reportRun(key: string, side: Side, run: Run, unit = 'rows'): void {
  const fold = side.rollups ? `, fold after ${secs(run.postFoldMs)}` : '';
  const errors = run.deadlocks + run.serializationFailures > 0
    ? `, ${run.deadlocks} deadlocks, ${run.serializationFailures} serialization failures` : '';
  note(`(${key}) ${side.name}: ${int(run.rows)} ${unit} in ${secs(run.ms)} = ${int(rate(run))} ${unit}/s${fold}${errors}`);
}

export const bulkTally = (rows: number, statements: number): Tally => ({ rows, statements, deadlocks: 0, serializationFailures: 0 });
