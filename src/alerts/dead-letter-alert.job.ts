import type { JobWithMetadata, PgBoss } from 'pg-boss';
import type { Db } from '../db/kysely.ts';
import type { Logger } from '../logger.ts';
import { raiseAlert } from './raise-alert.ts';

export interface DeadLetterAlertDependencies {
  db: Db;
  boss: Pick<PgBoss, 'send'>;
  log: Logger;
}

/**
 * The handler of a `…dead_letter` queue (batchSize 1): a job that failed its
 * last attempt arrived here, so the team hears about it. It raises the
 * critical incident `dead_letter:<original queue>:<original job id>` (with
 * the order, when the job's data names one) and completes.
 *
 * Completing the dead-letter copy loses nothing: pg-boss 12 keeps the
 * original job in its own queue in state `failed` (until that queue's
 * deleteAfterSeconds, 7 days by default), with its data, error output and
 * retry count. That record is what the operations page lists and retries
 * (`boss.retry(queue, id)`); a completed dead-letter copy can no longer be
 * redriven (`boss.redrive` moves waiting copies only).
 *
 * The alert says which job failed and where its record is, not why: an error
 * message can quote anything (an SMTP server's answer names the recipient),
 * and alerts carry no personal data.
 */
export function deadLetterAlertJob({ db, boss, log }: DeadLetterAlertDependencies) {
  return async function alertOnDeadLetter(jobs: JobWithMetadata<object>[]): Promise<void> {
    for (const job of jobs) {
      const queue = job.sourceName ?? sourceQueueOf(job.name);
      const failedJobId = job.sourceId ?? job.id;
      const orderId = orderIdOf(job.data);
      const attempts = job.sourceRetryCount === null ? null : job.sourceRetryCount + 1;
      const raised = await raiseAlert(db, boss, {
        incidentKey: `dead_letter:${queue}:${failedJobId}`,
        severity: 'critical',
        title: `A ${queue} job gave up${orderId ? ` (order ${orderId})` : ''}`,
        text: [
          `Job ${failedJobId} of ${queue} failed its last attempt${attempts ? ` (attempt ${attempts})` : ''} and was moved to ${job.name}.`,
          `Its record, with the error, stays in ${queue} as a failed job: look at it there, and retry it once the cause is fixed.`,
        ].join(' '),
        orderId,
      });
      log.child({ queue: job.name, jobId: job.id, sourceQueue: queue, sourceJobId: failedJobId, ...(orderId ? { orderId } : {}) })
        .warn({ alertId: raised.alertId, notifies: raised.notifies }, 'a job reached its dead-letter queue: alert raised');
    }
  };
}

/** `order__refund__dead_letter` → `order__refund`; `email__send_dead_letter` → `email__send`. */
export function sourceQueueOf(deadLetterQueue: string): string {
  return deadLetterQueue.replace(/_{1,2}dead_letter$/, '');
}

/** An orderId in the job's data that looks like one (the order workflow's jobs carry it as a string). */
function orderIdOf(data: unknown): string | null {
  const value = (data as { orderId?: unknown } | null)?.orderId;
  if (typeof value === 'string' && /^[1-9][0-9]{0,17}$/.test(value)) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  return null;
}
