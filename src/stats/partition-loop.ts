import type { Logger } from 'pino';
import type { Queryable } from './fold-step.ts';

export interface PartitionLoop {
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

/**
 * Keeps the month partitions of sales ready: ensure_sales_partitions() now
 * and then every day, in this process like the fold loop (not a pg-boss cron
 * schedule: it must also run where no worker runs, and a web process that
 * starts is the moment a new month may be due). Every web process runs it;
 * the function serializes them with an advisory lock and does nothing when
 * the partitions exist. Correctness never depends on it: a sale of a month
 * without a partition lands in the default partition, and the next run moves
 * it to its month's partition.
 */
export async function startPartitionLoop(db: Queryable, monthsAhead: number, log: Logger, intervalMs = DAY_MS): Promise<PartitionLoop> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const ensure = async () => {
    const { rows } = await db.query<{ name: string }>(`select ensure_sales_partitions(${Math.trunc(monthsAhead)}) as name`);
    if (rows.length > 0) log.info({ partitions: rows.map((row) => row.name) }, 'created partitions of sales');
  };
  const tick = () => {
    running = ensure()
      .catch((error: unknown) => log.warn({ err: error }, 'creating the partitions of sales failed; will retry tomorrow'))
      .finally(() => {
        if (!stopped) {
          timer = setTimeout(tick, intervalMs);
          timer.unref();
        }
      });
  };
  // The first run at start is awaited: a failure there is a start-up failure.
  await ensure();
  timer = setTimeout(tick, intervalMs);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
