import type { Logger } from 'pino';
import { createFoldStep, type Queryable } from './fold-step.ts';

export interface FoldLoop {
  stop(): Promise<void>;
}

/**
 * Folds pending rollup deltas every intervalMs, so the pending table stays a
 * few pages and reads of daily_sales_stats stay O(rows returned). Correctness
 * never depends on it: the view adds whatever is still pending.
 */
export function startFoldLoop(db: Queryable, intervalMs: number, log: Logger): FoldLoop {
  const step = createFoldStep(db);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = () => {
    running = step()
      .then((folded) => {
        if (folded > 0) log.debug({ folded }, 'folded rollup deltas');
      })
      .catch((error: unknown) => log.warn({ err: error }, 'folding rollup deltas failed; will retry'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
  };
  if (intervalMs > 0) timer = setTimeout(tick, intervalMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
