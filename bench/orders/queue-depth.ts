/**
 * pg-boss queue depth over time: every 500 ms, the jobs of each sampled
 * queue (the order's path, and in phase 6 the supplier's queues) waiting (created or retry) and running (active), by one count query
 * on pgboss.job (its partial index on live states answers it). getQueueStats
 * reads counts the monitor caches once a minute: too coarse here.
 */
import pg from 'pg';
import { SAMPLE_INTERVAL_MS, SAMPLED_QUEUES, type QueueSample } from './model.ts';

export interface DepthSampler {
  /** The newest sample, if any. */
  latest(): QueueSample | undefined;
  /** Stops sampling and returns the samples, oldest first. */
  stop(): Promise<QueueSample[]>;
}

export async function sampleQueueDepth(url: string, queues: readonly string[] = SAMPLED_QUEUES): Promise<DepthSampler> {
  const client = new pg.Client({ connectionString: url, application_name: 'tanktop-bench-sampler' });
  client.on('error', () => {});
  await client.connect();
  const samples: QueueSample[] = [];
  const started = performance.now();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const take = async () => {
    const at = performance.now() - started;
    const { rows } = await client.query<{ name: string; waiting: number; active: number }>(`/* bench */
      select name, count(*) filter (where state in ('created', 'retry'))::int as waiting,
                   count(*) filter (where state = 'active')::int as active
      from pgboss.job where name = any($1) and state in ('created', 'retry', 'active') group by name`, [queues]);
    const depth: QueueSample['depth'] = Object.fromEntries(queues.map((queue) => [queue, [0, 0]]));
    for (const row of rows) depth[row.name] = [row.waiting, row.active];
    samples.push({ at, depth });
  };
  const tick = () => {
    if (stopped) return;
    inFlight = take().catch(() => {}).finally(() => {
      if (!stopped) timer = setTimeout(tick, Math.max(0, SAMPLE_INTERVAL_MS - ((performance.now() - started) % SAMPLE_INTERVAL_MS)));
    });
  };
  tick();
  return {
    latest: () => samples.at(-1),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      await client.end();
      return samples;
    },
  };
}

const BARS = '▁▂▃▄▅▆▇█';

/** A sparkline of at most `width` characters: each character is the largest value of its stretch of samples. */
export function sparkline(values: number[], width = 60): string {
  if (values.length === 0) return '';
  const buckets = Math.min(width, values.length);
  const peaks = Array.from({ length: buckets }, (_, b) => {
    const from = Math.floor((b * values.length) / buckets);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / buckets));
    return Math.max(...values.slice(from, to));
  });
  const top = Math.max(...peaks);
  return peaks.map((value) => (value === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((value / Math.max(top, 1)) * (BARS.length - 1) + 0.5))])).join('');
}

/** `stripe__process_event 120+4, invoice__render_pdf 3+2, …` (waiting+active) for progress lines. */
export function depthLine(sample: QueueSample | undefined): string {
  if (!sample) return 'queues: no sample yet';
  return Object.entries(sample.depth).map(([queue, [waiting, active]]) => `${queue} ${waiting}+${active}`).join(', ');
}
