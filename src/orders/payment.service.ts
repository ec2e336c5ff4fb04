import { sql, type Transaction } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Logger } from 'pino';
import type { OrdersConfig } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { issueInvoice } from './invoices.repository.ts';
import { formatAmount, fromMinorUnits, toMinorUnits } from './money.ts';
import { Queues, type RefundOrderJob, type RenderInvoicePdfJob } from './order-queues.ts';
import { flagForReview, transitionPayment } from './order-state-machine.ts';
import { enqueueSupplierSubmission } from '../supplier/submission.ts';
import { prepared } from '../db/kysely.ts';
import { storableJsonText } from '../webhooks/storable-json.ts';

/**
 * What the payment workflow needs: the job queue (jobs are enqueued in the
 * caller's transaction), the order settings and a logger.
 */
export interface PaymentDeps {
  boss: Pick<PgBoss, 'send'>;
  orders: OrdersConfig;
  log: Logger;
}

type Trx = Transaction<Database>;

/** A payment the gateway reports as succeeded (a webhook, or the reconcile job asking it). */
export interface ReportedPayment {
  orderId: string;
  /** The payment intent, or the checkout session when there is none: the same money reported twice is one payment. */
  providerPaymentId: string;
  paymentIntentId: string | null;
  /** In the currency's minor unit, as the gateway counts. */
  amountMinor: number;
  currency: string;
  raw: unknown;
  /** What reported it (an event id, a job): stored with the order's history. */
  source: string;
}

export type PaymentOutcome = 'paid' | 'duplicate' | 'amount_mismatch' | 'second_payment' | 'refund_scheduled' | 'unknown_order';

/**
 * A succeeded payment, applied once, in the caller's transaction:
 * - the order is locked, so two reports of it (two events, an event and the
 *   reconcile job) are applied one after the other, and the second finds the
 *   payment row and does nothing;
 * - an amount or currency that differs from the order's flags the order for
 *   review: no sales, no invoice;
 * - a payment for an expired or cancelled order is recorded and refunded;
 * - otherwise the order is paid: one sales row per unit (the rollup triggers
 *   count them), the invoice with the next number of its series, and the job
 *   that renders and mails it. All of it commits, or none of it.
 */
export async function applyPaymentSuccess(trx: Trx, deps: PaymentDeps, payment: ReportedPayment): Promise<PaymentOutcome> {
  const order = await trx.selectFrom('orders').select(['id', 'number', 'payment_state', 'total', 'currency', 'payment_intent_id'])
    .where('id', '=', payment.orderId).forUpdate().modifyEnd(prepared).executeTakeFirst();
  if (!order) return 'unknown_order';
  const currency = payment.currency.toLowerCase();
  const amount = fromMinorUnits(payment.amountMinor);
  const mismatch = BigInt(payment.amountMinor) !== toMinorUnits(order.total) || currency !== order.currency;
  const late = order.payment_state === 'expired' || order.payment_state === 'cancelled';
  const alreadyPaid = order.payment_state === 'paid' || order.payment_state === 'refund_pending' || order.payment_state === 'refunded';

  // The same money reported twice (two events, an event and the reconcile job) is one payment: the
  // second report finds the first one's row (the order's lock orders them) and changes nothing.
  const recorded = await trx.insertInto('payments').values({
    order_id: order.id,
    provider: 'stripe',
    provider_payment_id: payment.providerPaymentId,
    amount,
    currency,
    status: late && !mismatch ? 'refund_pending' : 'succeeded',
    // The gateway's words may hold what jsonb refuses (\u0000): made storable, or every retry fails.
    raw: storableJsonText(payment.raw),
  }).onConflict((conflict) => conflict.columns(['provider', 'provider_payment_id']).doNothing())
    .returning('id').modifyEnd(prepared).executeTakeFirst();
  if (!recorded) return 'duplicate';
  const newIntent = payment.paymentIntentId && !order.payment_intent_id ? payment.paymentIntentId : null;
  const paid = !alreadyPaid && !mismatch && !late;
  // On the way to paid, the intent is stored with the transition below: one update of the row, not two.
  if (newIntent && !paid) {
    await trx.updateTable('orders').set({ payment_intent_id: newIntent }).where('id', '=', order.id).modifyEnd(prepared).execute();
  }

  if (alreadyPaid) {
    // A second payment (two checkout sessions both paid): a person decides what to give back.
    await flagForReview(trx, order.id, `a second payment of ${formatAmount(amount)} ${currency.toUpperCase()} (${payment.providerPaymentId}) was received`, payment.source);
    deps.log.warn({ orderId: order.id, providerPaymentId: payment.providerPaymentId }, 'second payment for an order: flagged for review');
    return 'second_payment';
  }
  if (mismatch) {
    await flagForReview(trx, order.id,
      `the gateway reported ${formatAmount(amount)} ${currency.toUpperCase()}, the order's total is ${formatAmount(order.total)} ${order.currency.toUpperCase()}`,
      payment.source);
    deps.log.warn({ orderId: order.id, reported: amount, currency, expected: order.total }, 'payment amount differs from the order: flagged for review');
    return 'amount_mismatch';
  }
  if (late) {
    await transitionPayment(trx, { orderId: order.id, to: 'refund_pending', from: ['expired', 'cancelled'], reason: `payment received after the order was ${order.payment_state}`, source: payment.source }, deps.log);
    const job: RefundOrderJob = { orderId: order.id, reason: `payment received after the order was ${order.payment_state}` };
    await deps.boss.send(Queues.refundOrder, job, { db: jobsIn(trx) });
    return 'refund_scheduled';
  }

  const moved = await transitionPayment(trx, {
    orderId: order.id, to: 'paid', reason: 'payment succeeded', source: payment.source,
    alsoSet: sql`paid_at = now(), payment_intent_id = coalesce(payment_intent_id, ${newIntent})`,
  }, deps.log);
  if (!moved) throw new Error(`order ${order.id} could not be marked paid from ${order.payment_state}`);
  await recordSales(trx, order.id);
  // The supplier gets the order from a job committed with the payment (src/supplier/).
  await enqueueSupplierSubmission(trx, deps.boss, order);
  // Numbered at commit: concurrent payments wait for the series' counter row during the commit alone.
  const invoice = await issueInvoice(trx, { orderId: order.id, kind: 'invoice', seller: { name: deps.orders.sellerName, address: deps.orders.sellerAddress } });
  const job: RenderInvoicePdfJob = { invoiceId: invoice.id };
  await deps.boss.send(Queues.renderInvoicePdf, job, { db: jobsIn(trx) });
  deps.log.info({ orderId: order.id, invoiceId: invoice.id }, 'order paid');
  return 'paid';
}

/** One sales row per unit sold, at the unit price, for the order's customer and sales agent. */
async function recordSales(trx: Trx, orderId: string): Promise<void> {
  await sql`${prepared}
    insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
    select o.customer_id, i.product_id, o.sales_agent_id, i.unit_price, now()
    from orders as o
    join order_items as i on i.order_id = o.id
    cross join lateral generate_series(1, i.quantity) as unit
    where o.id = ${orderId}
    order by i.id`.execute(trx);
}

export type FailureOutcome = 'payment_failed' | 'processing' | 'stale_attempt' | 'no_change' | 'unknown_order';

/**
 * A declined or failed attempt. The checkout session stays open (the customer
 * may try another card), and a later success still pays the order. An event
 * about an older attempt (another payment intent than the order's) changes
 * nothing.
 */
export async function applyPaymentFailed(trx: Trx, deps: PaymentDeps, report: { orderId: string; paymentIntentId: string | null; reason: string; source: string }): Promise<FailureOutcome> {
  const order = await trx.selectFrom('orders').select(['id', 'payment_intent_id']).where('id', '=', report.orderId).forUpdate().executeTakeFirst();
  if (!order) return 'unknown_order';
  if (report.paymentIntentId && order.payment_intent_id && order.payment_intent_id !== report.paymentIntentId) return 'stale_attempt';
  if (report.paymentIntentId && !order.payment_intent_id) {
    await trx.updateTable('orders').set({ payment_intent_id: report.paymentIntentId }).where('id', '=', order.id).execute();
  }
  const moved = await transitionPayment(trx, { orderId: order.id, to: 'payment_failed', from: ['pending_payment', 'payment_processing'], reason: report.reason, source: report.source }, deps.log);
  return moved ? 'payment_failed' : 'no_change';
}

/** An asynchronous payment method was accepted; the money follows (or fails) later. */
export async function applyPaymentProcessing(trx: Trx, deps: PaymentDeps, report: { orderId: string; source: string }): Promise<FailureOutcome> {
  const moved = await transitionPayment(trx, { orderId: report.orderId, to: 'payment_processing', from: ['pending_payment', 'payment_failed'], reason: 'payment processing', source: report.source }, deps.log);
  return moved ? 'processing' : 'no_change';
}

export type ExpiryOutcome = 'expired' | 'stale_session' | 'no_change' | 'unknown_order';

/**
 * The checkout session ended unpaid. Only the order's current session counts:
 * after a retry, the old session's expiry says nothing about the order.
 */
export async function applySessionExpired(trx: Trx, deps: PaymentDeps, report: { orderId: string; sessionId: string; source: string }): Promise<ExpiryOutcome> {
  const order = await trx.selectFrom('orders').select(['id', 'checkout_session_id']).where('id', '=', report.orderId).forUpdate().executeTakeFirst();
  if (!order) return 'unknown_order';
  if (order.checkout_session_id !== report.sessionId) return 'stale_session';
  const moved = await transitionPayment(trx, { orderId: order.id, to: 'expired', from: ['pending_payment', 'payment_failed'], reason: 'checkout session expired', source: report.source }, deps.log);
  return moved ? 'expired' : 'no_change';
}

export type RefundOutcome = 'refunded' | 'no_change' | 'unknown_order';

/**
 * The gateway confirmed a full refund (ours, or one made in its dashboard):
 * the order is refunded, and a credit note in its own series (crediting the
 * order's invoice, if it had one) is issued and mailed. Whoever moves the
 * order to refunded issues it, so the job and the webhook that both learn of
 * the refund issue one credit note between them.
 */
export async function completeRefund(trx: Trx, deps: PaymentDeps, report: { orderId: string; reason: string; source: string }): Promise<RefundOutcome> {
  const order = await trx.selectFrom('orders').select(['id']).where('id', '=', report.orderId).forUpdate().executeTakeFirst();
  if (!order) return 'unknown_order';
  const moved = await transitionPayment(trx, { orderId: order.id, to: 'refunded', reason: report.reason, source: report.source }, deps.log);
  if (!moved) return 'no_change';
  await trx.updateTable('payments').set({ status: 'refunded' }).where('order_id', '=', order.id).where('status', 'in', ['succeeded', 'refund_pending']).execute();
  const creditNote = await issueInvoice(trx, { orderId: order.id, kind: 'credit_note', reason: report.reason, seller: { name: deps.orders.sellerName, address: deps.orders.sellerAddress } });
  const job: RenderInvoicePdfJob = { invoiceId: creditNote.id };
  await deps.boss.send(Queues.renderInvoicePdf, job, { db: jobsIn(trx) });
  deps.log.info({ orderId: order.id, creditNoteId: creditNote.id }, 'order refunded');
  return 'refunded';
}
