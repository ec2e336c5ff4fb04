/**
 * The fold under case (c)'s writers for a long time: CONCURRENCY connections
 * of single-row spread inserts into the full schema, the service's fold loop
 * beside them, and the pending deltas counted every few seconds: bounded
 * means the fold keeps up.
 */
import { setInterval as every } from 'node:timers/promises';
import { seededRandom } from '../../src/seed/random.ts';
import { insertUntil, openClients, spreadSales } from '../ingest/concurrent-cases.ts';
import { startBackgroundFold } from '../ingest/measure.ts';
import { CONCURRENCY, type Entities, type Side, type Tally } from '../ingest/model.ts';
import { int, note } from '../ingest/progress.ts';

export interface Sustained {
  seconds: number;
  writesPerSecond: number;
  /** Deltas folded per second of the run. */
  foldedPerSecond: number;
  /** Deltas folded per second the fold was busy: its headroom. */
  foldCapacity: number;
  samples: { second: number; pending: number }[];
  maxPending: number;
  bounded: boolean;
  errors: number;
}

export async function sustainFold(rollups: Side, entities: Entities, seconds: number): Promise<Sustained> {
  note(`(sustain) case (c)'s ${CONCURRENCY} writers for ${seconds} s with the fold every second`);
  const clients = await openClients(rollups.url, CONCURRENCY);
  const fold = await startBackgroundFold(rollups.url);
  const samples: Sustained['samples'] = [];
  const started = performance.now();
  const stopSampling = new AbortController();
  const interval = Math.max(1, Math.round(seconds / 20)) * 1000;
  const sampler = (async () => {
    try {
      for await (const _ of every(interval, undefined, { signal: stopSampling.signal })) {
        const { rows } = await rollups.pool.query<{ n: string }>('select count(*) as n from daily_sales_stats_pending');
        const sample = { second: Math.round((performance.now() - started) / 1000), pending: Number(rows[0]!.n) };
        samples.push(sample);
        note(`(sustain) ${sample.second} s: ${int(sample.pending)} pending rows`);
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  })();
  const tally: Tally = { rows: 0, statements: 0, deadlocks: 0, serializationFailures: 0 };
  let calls;
  try {
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(clients.map((client, worker) => insertUntil(client, spreadSales(entities, seededRandom(5_000 + worker)), 1, deadline, tally)));
  } finally {
    stopSampling.abort();
    await sampler;
    calls = await fold.stop();
    await Promise.all(clients.map((client) => client.end()));
  }
  const elapsed = (performance.now() - started) / 1000;
  const folded = calls.reduce((sum, call) => sum + call.folded, 0);
  const busy = calls.reduce((sum, call) => sum + (call.end - call.start), 0) / 1000;
  const half = Math.floor(samples.length / 2);
  const peak = (part: typeof samples) => Math.max(0, ...part.map((s) => s.pending));
  // Bounded: the second half's peak is no more than twice the first half's
  // plus what the writers add between two folds (a fold's worth of noise).
  const perFold = tally.rows / elapsed;
  const bounded = peak(samples.slice(half)) <= 2 * peak(samples.slice(0, half)) + 2 * perFold;
  const result = {
    seconds: elapsed, writesPerSecond: tally.rows / elapsed, foldedPerSecond: folded / elapsed,
    foldCapacity: busy > 0 ? folded / busy : 0, samples, maxPending: peak(samples), bounded,
    errors: tally.deadlocks + tally.serializationFailures,
  };
  note(`(sustain) ${int(result.writesPerSecond)} commits/s, fold ${int(result.foldedPerSecond)} deltas/s (${int(result.foldCapacity)} deltas/s while busy), ` +
    `peak ${int(result.maxPending)} pending: ${bounded ? 'bounded' : 'growing'}`);
  return result;
}
