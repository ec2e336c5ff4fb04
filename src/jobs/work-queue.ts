import type { JobResult, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';

export interface JobContext {
  jobId: string;
  queue: string;
  /** 0 on the first attempt. */
  retryCount: number;
  /** A child logger carrying queue and jobId (and orderId when the job names one). */
  log: Logger;
}

export type JobHandler<T> = (data: T, context: JobContext) => Promise<unknown>;

export interface WorkOptions {
  /** Jobs of this queue run at once in this process. */
  concurrency?: number;
  /** How often an idle worker looks for jobs, in seconds (NOTIFY usually wakes it first). */
  pollingIntervalSeconds?: number;
}

/** Jobs fetched at once by one worker; they run one after another. */
export const BATCH_SIZE = 5;

/**
 * Runs a handler for each job of a queue. A handler throws to have its job
 * retried (with the queue's backoff, then the dead-letter queue); it must be
 * idempotent, since a retried or expired job runs again.
 *
 * Jobs come in batches of up to BATCH_SIZE, run one after another (so
 * `concurrency` is still the number running at once), and each is completed
 * or failed on its own (perJobResults): one failing job does not fail its
 * batch. A worker whose batch came back full fetches again at once
 * (burstWhenBatchFull): with one job per fetch, pg-boss sleeps a polling
 * interval after each job unless a NOTIFY arrived, and a backlog drained at
 * `concurrency` jobs per 2 s (bench:orders).
 */
export function workQueue<T extends object>(boss: PgBoss, queue: string, log: Logger, handler: JobHandler<T>, options: WorkOptions = {}): Promise<string> {
  const polling = options.pollingIntervalSeconds ?? 2;
  return boss.work<T>(queue, {
    batchSize: BATCH_SIZE,
    perJobResults: true,
    burstWhenBatchFull: true,
    localConcurrency: options.concurrency ?? 2,
    pollingIntervalSeconds: polling,
    // NOTIFY wakes a worker for a new job, but not for a retry whose delay has
    // passed: without this, retries would wait for the 30 s notify-mode poll.
    notifyPollingIntervalSeconds: polling,
  }, async (jobs) => {
    const results: JobResult[] = [];
    for (const job of jobs) {
      const orderId = (job.data as { orderId?: unknown }).orderId;
      const jobLog = log.child({ queue, jobId: job.id, ...(typeof orderId === 'string' ? { orderId } : {}) });
      try {
        const result = await handler(job.data, { jobId: job.id, queue, retryCount: job.retryCount, log: jobLog });
        jobLog.debug({ result }, 'job done');
        results.push({ id: job.id, status: 'completed', output: result === undefined ? undefined : { result } });
      } catch (error) {
        jobLog.warn({ err: error, attempt: job.retryCount + 1 }, 'job failed; pg-boss retries it');
        results.push({ id: job.id, status: 'failed', output: failureOutput(error) });
      }
    }
    return results;
  });
}

/** What pg-boss stores on a failed job (the operations page shows its message). */
export function failureOutput(error: unknown): { message: string; name?: string; stack?: string } {
  if (error instanceof Error) return { message: error.message, name: error.name, stack: error.stack };
  return { message: String(error) };
}
