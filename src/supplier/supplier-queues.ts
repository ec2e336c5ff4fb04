import type { Queue } from 'pg-boss';
import type { QueueSpec } from '../jobs/queue-spec.ts';
import { deadLetterOf } from '../orders/order-queues.ts';

/** The supplier workflow's queues, `<aggregate>__<action>`. */
export const SupplierQueues = Object.freeze({
  submitOrder: 'supplier__submit_order',
  processEvent: 'supplier__process_event',
  pollOrders: 'supplier__poll_orders',
});

/** Attempts of one submission in all: the first and two retries. */
export const SUBMIT_ATTEMPTS = 3;

export interface SubmitOrderJob {
  orderId: string;
  /**
   * Attempts already made by earlier jobs of this submission: a 429 ends its
   * job and schedules the next attempt as a new job at the Retry-After, which
   * carries the count (and the retries left) on.
   */
  attemptsBefore?: number;
}
export interface ProcessSupplierEventJob { webhookEventId: string }
/** Scheduled with no data; tests pass a threshold of their own. */
export interface PollSupplierOrdersJob { olderThanSeconds?: number }

/** One live submission per order (pg-boss's stately policy: one job per key and state). */
export function submitSingletonKey(orderId: string): string {
  return `order:${orderId}`;
}

/**
 * Calls to the supplier time out after SUPPLIER_TIMEOUT_MS (at most 30 s; an
 * attempt makes at most two: the lookup and the create), far below the
 * expiry, and heartbeats retry a killed worker's job within seconds.
 * Submissions back off exponentially with pg-boss's jitter (2-4 s, then 4-8 s).
 */
const submitOptions: Omit<Queue, 'name'> = {
  retryLimit: SUBMIT_ATTEMPTS - 1,
  retryDelay: 2,
  retryBackoff: true,
  retryDelayMax: 300,
  expireInSeconds: 120,
  heartbeatSeconds: 15,
  notify: true,
  policy: 'stately',
};

const eventOptions: Omit<Queue, 'name'> = {
  retryLimit: 10,
  retryDelay: 1,
  retryBackoff: true,
  retryDelayMax: 300,
  expireInSeconds: 120,
  heartbeatSeconds: 15,
  notify: true,
};

/** Scheduled: the next run comes anyway, so one retry is enough. A run asks about at most 100 orders. */
const pollOptions: Omit<Queue, 'name'> = {
  retryLimit: 1,
  retryDelay: 30,
  retryBackoff: true,
  retryDelayMax: 300,
  expireInSeconds: 900,
  heartbeatSeconds: 15,
  notify: true,
  policy: 'singleton',
};

const definitions: { name: string; options: Omit<Queue, 'name'> }[] = [
  { name: SupplierQueues.submitOrder, options: submitOptions },
  { name: SupplierQueues.processEvent, options: eventOptions },
  { name: SupplierQueues.pollOrders, options: pollOptions },
];

/**
 * Dead-letter queues whose jobs raise their own, more specific alert on their
 * last attempt (supplier_failed:<order id>, with what to do): a second,
 * generic dead-letter alert for the same failure would only double the noise.
 */
export const SELF_ALERTING_DEAD_LETTERS: readonly string[] = [deadLetterOf(SupplierQueues.submitOrder)];

/** The supplier queues, dead-letter queues first (a queue naming a missing dead-letter queue cannot be created). */
export const supplierQueues: QueueSpec[] = [
  ...definitions.map(({ name }) => ({ name: deadLetterOf(name), options: { retentionSeconds: 30 * 24 * 3600, deleteAfterSeconds: 30 * 24 * 3600 } })),
  ...definitions.map(({ name, options }) => ({ name, options: { ...options, deadLetter: deadLetterOf(name) } })),
];
