import type { Logger } from 'pino';
import { workQueue, type WorkOptions } from '../jobs/work-queue.ts';
import { expireStaleOrdersJob } from './jobs/expire-stale-orders.job.ts';
import type { OrderJobDeps } from './jobs/order-jobs.deps.ts';
import { processStripeEventJob } from './jobs/process-stripe-event.job.ts';
import { reconcilePaymentsJob } from './jobs/reconcile-payments.job.ts';
import { refundOrderJob } from './jobs/refund-order.job.ts';
import { renderInvoicePdfJob } from './jobs/render-invoice-pdf.job.ts';
import { Queues } from './order-queues.ts';

/** Cron expressions (UTC) of the scheduled jobs. pg-boss may start them up to a minute late. */
export const ORDER_SCHEDULES = Object.freeze({
  [Queues.expireStaleOrders]: '*/5 * * * *',
  [Queues.reconcilePayments]: '*/5 * * * *',
});

/** Starts a worker for each of the order workflow's queues; returns their ids (for offWork). */
export async function registerOrderWorkers(deps: OrderJobDeps, log: Logger, options: WorkOptions = {}): Promise<string[]> {
  const { boss } = deps;
  return Promise.all([
    workQueue(boss, Queues.processStripeEvent, log, processStripeEventJob(deps), { concurrency: 4, ...options }),
    workQueue(boss, Queues.renderInvoicePdf, log, renderInvoicePdfJob(deps), { concurrency: 2, ...options }),
    workQueue(boss, Queues.refundOrder, log, refundOrderJob(deps), { concurrency: 2, ...options }),
    workQueue(boss, Queues.expireStaleOrders, log, expireStaleOrdersJob(deps), { concurrency: 1, ...options }),
    workQueue(boss, Queues.reconcilePayments, log, reconcilePaymentsJob(deps), { concurrency: 1, ...options }),
  ]);
}
