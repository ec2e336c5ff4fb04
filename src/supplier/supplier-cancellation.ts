import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { transitionFulfilment, transitionPayment } from '../orders/order-state-machine.ts';
import { alertSupplierCancelled } from './supplier-alerts.ts';
import type { SupplierDeps } from './supplier-deps.ts';
import { queueSupplierCancelledEmail, type MailedOrder } from './supplier-emails.ts';
import { requestRefund } from './refund-request.ts';

type Trx = Transaction<Database>;

export interface CancelRequest {
  reason: string;
  source: string;
  /** The supplier cancelled or failed the order on its own (its status): the customer is told why, and the team. */
  bySupplier: 'cancelled' | 'failed' | null;
}

/**
 * Ends an order's fulfilment, in the caller's transaction (the order row
 * locked by the transition): fulfilment → cancelled, then its money back
 * through order__refund (a paid order: refund and credit note) or, for an
 * order never paid, its payment cancelled too. Idempotent: an order already
 * cancelled changes nothing, so the operator's cancellation and the
 * supplier's webhook confirming it refund once between them.
 */
export async function cancelFulfilment(trx: Trx, deps: SupplierDeps, order: MailedOrder, request: CancelRequest): Promise<'cancelled' | 'no_change'> {
  const moved = await transitionFulfilment(trx, { orderId: order.id, to: 'cancelled', reason: request.reason, source: request.source }, deps.log);
  if (!moved) return 'no_change';
  const refund = await requestRefund(trx, deps, { orderId: order.id, reason: request.reason, source: request.source });
  if (refund === 'not_paid') {
    await transitionPayment(trx, { orderId: order.id, to: 'cancelled', from: ['pending_payment', 'payment_failed'], reason: request.reason, source: request.source }, deps.log);
  }
  if (request.bySupplier) {
    await queueSupplierCancelledEmail(trx, deps, order);
    await alertSupplierCancelled(trx, deps, order, request.bySupplier);
  }
  deps.log.info({ orderId: order.id, reason: request.reason, refund }, 'order cancelled');
  return 'cancelled';
}
