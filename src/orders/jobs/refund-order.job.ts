import type { JobHandler } from '../../jobs/work-queue.ts';
import type { RefundOrderJob } from '../order-queues.ts';
import { completeRefund } from '../payment.service.ts';
import { workflowDeps, type OrderJobDeps } from './order-jobs.deps.ts';

/**
 * order__refund: gives back a payment the order cannot keep (it arrived after
 * the order expired or was cancelled). The gateway call carries one
 * Idempotency-Key per order, so a retried job (or a second copy) refunds
 * once; then the order becomes refunded with its credit note, in one
 * transaction. The refund's webhook may get there first: then this finds the
 * order refunded and does nothing more.
 */
/** One refund per order, whoever asks how often (the order number: see checkoutIdempotencyKey). */
export function refundIdempotencyKey(orderId: string, number: string): string {
  return `tanktop-order-${orderId}-${number}-refund`;
}

export function refundOrderJob(deps: OrderJobDeps): JobHandler<RefundOrderJob> {
  return async ({ orderId, reason }, { jobId, log }) => {
    const order = await deps.db.selectFrom('orders').select(['id', 'number', 'payment_state']).where('id', '=', orderId).executeTakeFirst();
    if (!order || order.payment_state !== 'refund_pending') {
      log.info({ state: order?.payment_state }, 'no refund pending for this order');
      return 'nothing to refund';
    }
    const payment = await deps.db.selectFrom('payments').select(['id', 'provider_payment_id'])
      .where('order_id', '=', orderId).where('status', '=', 'refund_pending').orderBy('id').executeTakeFirst();
    if (payment) {
      try {
        const refund = await deps.stripe.refunds.create(
          { payment_intent: payment.provider_payment_id, metadata: { order_id: orderId } },
          { idempotencyKey: refundIdempotencyKey(order.id, order.number) },
        );
        log.info({ refund: refund.id, status: refund.status }, 'refund created at the gateway');
        if (refund.status !== 'succeeded') return `refund ${refund.status}: waiting for the gateway's webhook`;
      } catch (error) {
        // Refunded already (from the dashboard, or an attempt whose answer was lost): go on.
        if ((error as { code?: string }).code !== 'charge_already_refunded') throw error;
      }
    }
    return deps.db.transaction().execute((trx) => completeRefund(trx, workflowDeps(deps, log), { orderId, reason, source: `job:${jobId}` }));
  };
}
