import type { Logger } from './logger.ts';

/**
 * Ctrl-C and SIGTERM run `stop` once, then exit 0 (1 if it failed). A second
 * signal exits at once (130), and so does a stop that hangs past `limitMs`.
 * Returns the same trigger for other reasons to stop (a parent gone).
 */
export function stopOnSignals(log: Logger, stop: (reason: string) => Promise<void>, limitMs: number): (reason: string) => void {
  let stopping = false;
  const begin = (reason: string) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), limitMs).unref();
    stop(reason).then(() => process.exit(0), (error: unknown) => {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130);
      begin(signal);
    });
  }
  return begin;
}
