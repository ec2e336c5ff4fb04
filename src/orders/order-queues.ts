import type { Queue } from 'pg-boss';
import type { QueueSpec } from '../jobs/queue-spec.ts';

/** The order workflow's queues, `<aggregate>__<action>`. */
export const Queues = Object.freeze({
  processStripeEvent: 'stripe__process_event',
  renderInvoicePdf: 'invoice__render_pdf',
  refundOrder: 'order__refund',
  expireStaleOrders: 'order__expire_stale',
  reconcilePayments: 'order__reconcile_payments',
});

export interface ProcessStripeEventJob { webhookEventId: string }
export interface RenderInvoicePdfJob { invoiceId: string }
/** Without paymentId: the order's refund (refund_pending to refunded). With one: that second payment only, the order staying as it is. */
export interface RefundOrderJob { orderId: string; reason: string; paymentId?: string }
/** Scheduled with no data; tests pass a threshold of their own. */
export interface ReconcilePaymentsJob { olderThanSeconds?: number }
export interface ExpireStaleOrdersJob { graceSeconds?: number }

export function deadLetterOf(queue: string): string {
  return `${queue}__dead_letter`;
}

/**
 * Every job calls the gateway or the mail server with timeouts of a few
 * seconds (and the SDK's two retries), so a healthy attempt ends far below
 * its expiry: pg-boss starts a second copy of a job that outlives it. The
 * handlers are idempotent anyway. Retries back off up to five minutes; a job
 * that still fails lands in its dead-letter queue, kept for 30 days.
 */
const retrying = (retryLimit: number, retryDelay: number): Omit<Queue, 'name'> => ({
  retryLimit,
  retryDelay,
  retryBackoff: true,
  retryDelayMax: 300,
  expireInSeconds: 180,
  // Workers send heartbeats while a job runs: the job of a killed process is
  // retried once the supervisor sees them stop, long before its expiry.
  heartbeatSeconds: 15,
  // Workers wake on NOTIFY at once when the instance listens; polling is the floor.
  notify: true,
});

const definitions: { name: string; options: Omit<Queue, 'name'> }[] = [
  { name: Queues.processStripeEvent, options: retrying(10, 1) },
  { name: Queues.renderInvoicePdf, options: retrying(10, 2) },
  { name: Queues.refundOrder, options: retrying(12, 5) },
  // Scheduled: the next run comes anyway, so one retry is enough.
  { name: Queues.expireStaleOrders, options: { ...retrying(1, 30), policy: 'singleton' } },
  { name: Queues.reconcilePayments, options: { ...retrying(1, 30), policy: 'singleton' } },
];

function withDeadLetter(name: string, options: Omit<Queue, 'name'>): Omit<Queue, 'name'> {
  return { ...options, deadLetter: deadLetterOf(name) };
}

/**
 * Dead-letter queues first: a queue naming a missing dead-letter queue cannot
 * be created. (QueueSpec's options are pg-boss's QueueOptions, which has no
 * `deadLetter` or `policy`; the Queue-typed objects carry them through.)
 */
export const orderQueues: QueueSpec[] = [
  ...definitions.map(({ name }) => ({ name: deadLetterOf(name), options: { retentionSeconds: 30 * 24 * 3600, deleteAfterSeconds: 30 * 24 * 3600 } })),
  ...definitions.map(({ name, options }) => ({ name, options: withDeadLetter(name, options) })),
];
