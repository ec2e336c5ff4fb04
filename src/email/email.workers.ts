import type { PgBoss } from 'pg-boss';
import { EMAIL_SEND_QUEUE } from './email.queues.ts';
import { sendEmailJob, type SendEmailDependencies } from './send-email.job.ts';

export interface EmailWorkerOptions {
  /** Messages sent at once by this process (default 4); each holds a database connection while it sends. */
  concurrency?: number;
  /** How often an idle worker looks for jobs (pg-boss's default 2 s; at least 0.5). */
  pollingIntervalSeconds?: number;
}

/**
 * Starts the email__send workers. One job per batch: a throwing handler
 * fails its whole batch, and each message must succeed or retry on its own.
 */
export function registerEmailWorkers(boss: PgBoss, deps: SendEmailDependencies, options: EmailWorkerOptions = {}): Promise<string> {
  return boss.work(EMAIL_SEND_QUEUE, {
    batchSize: 1,
    includeMetadata: true,
    localConcurrency: options.concurrency ?? 4,
    pollingIntervalSeconds: options.pollingIntervalSeconds ?? 2,
  }, sendEmailJob(deps));
}
