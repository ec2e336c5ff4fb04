import type { Queue } from 'pg-boss';
import type { QueueSpec } from '../jobs/queue-spec.ts';
import { SMTP_TIMEOUTS_MS } from './mailer.ts';

export const EMAIL_SEND_QUEUE = 'email__send';
export const EMAIL_SEND_DEAD_LETTER_QUEUE = 'email__send_dead_letter';

/** The job's data: which outbox row to deliver. */
export interface SendEmailJobData {
  emailId: string;
}

/**
 * Eleven attempts with backoff (about 1, 2, 4 … s, at most 5 minutes apart):
 * an SMTP server that is down for a minute, or for ten, still gets the mail.
 * The job's expiry is far above a send's worst case (the SMTP timeouts), so a
 * healthy attempt is never presumed dead and started a second time.
 */
const sendOptions: Omit<Queue, 'name'> = {
  retryLimit: 10,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 300,
  expireInSeconds: Math.max(120, 4 * Math.ceil((SMTP_TIMEOUTS_MS.connection + SMTP_TIMEOUTS_MS.greeting + SMTP_TIMEOUTS_MS.socket) / 1000)),
  // A killed worker's job is retried after a missed heartbeat, not after the whole expiry.
  heartbeatSeconds: 15,
  // Workers wake on NOTIFY the moment an e-mail is queued; polling is the floor.
  notify: true,
  deadLetter: EMAIL_SEND_DEAD_LETTER_QUEUE,
};

/**
 * The e-mail queues, dead-letter queue first (a queue naming a missing
 * dead-letter queue cannot be created). QueueSpec's options type has no
 * `deadLetter` (it lives on pg-boss's Queue): `sendOptions` is typed as a
 * Queue and carries it through to createQueue.
 */
export const emailQueues: QueueSpec[] = [
  { name: EMAIL_SEND_DEAD_LETTER_QUEUE, options: { retentionSeconds: 30 * 24 * 3600 } },
  { name: EMAIL_SEND_QUEUE, options: sendOptions },
];
