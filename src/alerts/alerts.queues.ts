import type { Queue } from 'pg-boss';
import type { QueueSpec } from '../jobs/queue-spec.ts';

export const ALERT_SEND_QUEUE = 'alert__send';
export const ALERT_SEND_DEAD_LETTER_QUEUE = 'alert__send__dead_letter';

/** The job's data: which alerts row to deliver. Nothing else travels in the job. */
export interface SendAlertJobData {
  alertId: string;
}

/**
 * Six attempts about 2, 4, 8, 16, 32 s apart (at most 2 minutes): a chat
 * service that is away for a minute still gets the alert, and one that is
 * gone gives up within a few minutes, marks the row failed and leaves the job
 * in the dead-letter queue. The webhook call times out after ALERT_TIMEOUT_MS
 * (at most 30 s), far below the expiry; heartbeats retry a killed worker's job
 * within seconds.
 */
const sendOptions: Omit<Queue, 'name'> = {
  retryLimit: 5,
  retryDelay: 2,
  retryBackoff: true,
  retryDelayMax: 120,
  expireInSeconds: 120,
  heartbeatSeconds: 15,
  notify: true,
  deadLetter: ALERT_SEND_DEAD_LETTER_QUEUE,
};

/** The alert queues, dead-letter queue first (a queue naming a missing dead-letter queue cannot be created). */
export const alertQueues: QueueSpec[] = [
  { name: ALERT_SEND_DEAD_LETTER_QUEUE, options: { retentionSeconds: 30 * 24 * 3600, deleteAfterSeconds: 30 * 24 * 3600 } },
  { name: ALERT_SEND_QUEUE, options: sendOptions },
];
