import type { JobContext, JobHandler } from '../../jobs/work-queue.ts';
import type { RefundOrderJob } from '../order-queues.ts';
import { completePaymentRefund, completeRefund } from '../payment.service.ts';
import { workflowDeps, type OrderJobDeps } from './order-jobs.deps.ts';

/**
 * order__refund: gives back a payment the order cannot keep (it arrived after
 * the order expired or was cancelled, or the order is refunded), or, with a
 * paymentId, a second payment for an order already paid (refundSecondPayment). The gateway call carries one
 * Idempotency-Key per order, so a retried job (or a second copy) refunds
 * once; then the order becomes refunded with its credit note, in one
 * transaction. The refund's webhook may get there first: then this finds the
 * order refunded and does nothing more.
 */
/** One refund per order, whoever asks how often (the order number: see checkoutIdempotencyKey). */
export function refundIdempotencyKey(orderId: string, number: string): string {
  return `tanktop-order-${orderId}-${number}-refund`;
}

/** One refund per second payment, however often asked, and never the order's own key (the gateway would replay that refund). */
export function paymentRefundIdempotencyKey(orderId: string, number: string, paymentId: string): string {
  return `tanktop-order-${orderId}-${number}-payment-${paymentId}-refund`;
}

export function refundOrderJob(deps: OrderJobDeps): JobHandler<RefundOrderJob> {
  return async ({ orderId, reason, paymentId }, { jobId, log }) => {
    if (paymentId !== undefined) return refundSecondPayment(deps, { orderId, reason, paymentId }, { jobId, log });
    const order = await deps.db.selectFrom('orders').select(['id', 'number', 'payment_state']).where('id', '=', orderId).executeTakeFirst();
    if (!order || order.payment_state !== 'refund_pending') {
      log.info({ state: order?.payment_state }, 'no refund pending for this order');
      return 'nothing to refund';
    }
    const payment = await deps.db.selectFrom('payments').select(['id', 'provider_payment_id'])
      .where('order_id', '=', orderId).where('status', '=', 'refund_pending').where('duplicate', '=', false).orderBy('id').executeTakeFirst();
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

/**
 * A second payment's refund: the gateway refunds that payment (its own
 * Idempotency-Key, so a retried job or a second copy refunds it once), then
 * its credit note is issued in one transaction with the payment marked
 * refunded; the refund's webhook may get there first, and then this issues
 * nothing. The order is not touched: it keeps its first payment.
 */
async function refundSecondPayment(deps: OrderJobDeps, request: { orderId: string; reason: string; paymentId: string }, { jobId, log }: Pick<JobContext, 'jobId' | 'log'>): Promise<string> {
  const payment = await deps.db.selectFrom('payments as p').innerJoin('orders as o', 'o.id', 'p.order_id')
    .select(['p.id', 'p.provider_payment_id', 'p.status', 'o.number'])
    .where('p.id', '=', request.paymentId).where('p.order_id', '=', request.orderId).where('p.duplicate', '=', true).executeTakeFirst();
  if (!payment || payment.status !== 'refund_pending') {
    log.info({ paymentId: request.paymentId, status: payment?.status }, 'no refund pending for this payment');
    return 'nothing to refund';
  }
  try {
    const refund = await deps.stripe.refunds.create(
      { payment_intent: payment.provider_payment_id, metadata: { order_id: request.orderId, payment_id: payment.id } },
      { idempotencyKey: paymentRefundIdempotencyKey(request.orderId, payment.number, payment.id) },
    );
    log.info({ refund: refund.id, status: refund.status, paymentId: payment.id }, 'second payment refund created at the gateway');
    if (refund.status !== 'succeeded') return `refund ${refund.status}: waiting for the gateway's webhook`;
  } catch (error) {
    if ((error as { code?: string }).code !== 'charge_already_refunded') throw error;
  }
  return deps.db.transaction().execute((trx) => completePaymentRefund(trx, workflowDeps(deps, log), { paymentId: payment.id, reason: request.reason, source: `job:${jobId}` }));
}
