import type { PgBoss } from 'pg-boss';
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

/**
 * Runs a handler for each job of a queue, one job per batch: a throwing batch
 * handler fails its whole batch, and each job must succeed or retry on its
 * own. A handler throws to have the job retried (with the queue's backoff,
 * then the dead-letter queue); it must be idempotent, since a retried or
 * expired job runs again.
 */
export function workQueue<T extends object>(boss: PgBoss, queue: string, log: Logger, handler: JobHandler<T>, options: WorkOptions = {}): Promise<string> {
  const polling = options.pollingIntervalSeconds ?? 2;
  return boss.work<T>(queue, {
    batchSize: 1,
    localConcurrency: options.concurrency ?? 2,
    pollingIntervalSeconds: polling,
    // NOTIFY wakes a worker for a new job, but not for a retry whose delay has
    // passed: without this, retries would wait for the 30 s notify-mode poll.
    notifyPollingIntervalSeconds: polling,
  }, async (jobs) => {
    for (const job of jobs) {
      const orderId = (job.data as { orderId?: unknown }).orderId;
      const jobLog = log.child({ queue, jobId: job.id, ...(typeof orderId === 'string' ? { orderId } : {}) });
      try {
        const result = await handler(job.data, { jobId: job.id, queue, retryCount: job.retryCount, log: jobLog });
        jobLog.debug({ result }, 'job done');
      } catch (error) {
        jobLog.warn({ err: error, attempt: job.retryCount + 1 }, 'job failed; pg-boss retries it');
        throw error;
      }
    }
  });
}
