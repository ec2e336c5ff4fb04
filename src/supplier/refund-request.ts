import type { Transaction } from 'kysely';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Database } from '../db/schema.ts';
import { Queues, type RefundOrderJob } from '../orders/order-queues.ts';
import { transitionPayment } from '../orders/order-state-machine.ts';
import type { SupplierDeps } from './supplier-deps.ts';

export type RefundRequestOutcome = 'refund_requested' | 'already_refunding' | 'not_paid' | 'unknown_order';

/**
 * Gives a paid order's money back through the existing path, in the caller's
 * transaction: paid → refund_pending (an order_events row), its payment
 * marked refund_pending (what order__refund refunds at the gateway, with one
 * Idempotency-Key per order), and the order__refund job, which then issues
 * the credit note and mails it. Idempotent: an order already refunding or
 * refunded, or never paid, is left as it is.
 */
export async function requestRefund(trx: Transaction<Database>, deps: SupplierDeps, request: { orderId: string; reason: string; source: string }): Promise<RefundRequestOutcome> {
  const order = await trx.selectFrom('orders').select(['id', 'payment_state']).where('id', '=', request.orderId).forUpdate().executeTakeFirst();
  if (!order) return 'unknown_order';
  if (order.payment_state === 'refund_pending' || order.payment_state === 'refunded') return 'already_refunding';
  if (order.payment_state !== 'paid') return 'not_paid';
  await transitionPayment(trx, { orderId: order.id, to: 'refund_pending', from: ['paid'], reason: request.reason, source: request.source }, deps.log);
  // A second payment is refunded on its own (order__refund with its paymentId), never as the order's.
  await trx.updateTable('payments').set({ status: 'refund_pending' }).where('order_id', '=', order.id).where('status', '=', 'succeeded').where('duplicate', '=', false).execute();
  const job: RefundOrderJob = { orderId: order.id, reason: request.reason };
  await deps.boss.send(Queues.refundOrder, job, { db: jobsIn(trx) });
  deps.log.info({ orderId: order.id, reason: request.reason }, 'refund requested');
  return 'refund_requested';
}
