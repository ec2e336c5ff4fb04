import type { PgBoss } from 'pg-boss';
import { BATCH_SIZE } from '../jobs/work-queue.ts';
import { EMAIL_SEND_QUEUE } from './email.queues.ts';
import { sendEmailJob, type SendEmailDependencies } from './send-email.job.ts';

export interface EmailWorkerOptions {
  /** Messages sent at once by this process (default 4); each holds a database connection while it sends. */
  concurrency?: number;
  /** How often an idle worker looks for jobs (pg-boss's default 2 s; at least 0.5). */
  pollingIntervalSeconds?: number;
}

/**
 * Starts the email__send workers: batches as in workQueue (each message
 * settles on its own, a full batch fetches again at once); the queue is a
 * notify queue, so a queued message wakes them at once.
 */
export function registerEmailWorkers(boss: PgBoss, deps: SendEmailDependencies, options: EmailWorkerOptions = {}): Promise<string> {
  const polling = options.pollingIntervalSeconds ?? 2;
  return boss.work(EMAIL_SEND_QUEUE, {
    batchSize: BATCH_SIZE,
    perJobResults: true,
    burstWhenBatchFull: true,
    includeMetadata: true,
    localConcurrency: options.concurrency ?? 4,
    pollingIntervalSeconds: polling,
    // NOTIFY does not announce a retry whose delay has passed: poll for those.
    notifyPollingIntervalSeconds: polling,
  }, sendEmailJob(deps));
}
