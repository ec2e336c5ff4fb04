import { sql, type Transaction } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { raiseAlert } from '../alerts/raise-alert.ts';
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

export type PaymentOutcome = 'paid' | 'duplicate' | 'amount_mismatch' | 'second_payment' | 'second_payment_refund_scheduled' | 'refund_scheduled' | 'unknown_order';

/**
 * A succeeded payment, applied once, in the caller's transaction:
 * - the order is locked, so two reports of it (two events, an event and the
 *   reconcile job) are applied one after the other, and the second finds the
 *   payment row and does nothing;
 * - an amount or currency that differs from the order's flags the order for
 *   review: no sales, no invoice;
 * - a payment for an expired or cancelled order is recorded and refunded;
 * - a second payment for an order already paid (or refunding, or refunded) is
 *   recorded and refunded on its own, with its own credit note and e-mail,
 *   and the team is told; one of another amount or currency is flagged for
 *   a person instead (see secondPayment);
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
  const duplicate = alreadyPaid && !mismatch;

  // The same money reported twice (two events, an event and the reconcile job) is one payment: the
  // second report finds the first one's row (the order's lock orders them) and changes nothing.
  const recorded = await trx.insertInto('payments').values({
    order_id: order.id,
    provider: 'stripe',
    provider_payment_id: payment.providerPaymentId,
    amount,
    currency,
    status: (late || duplicate) && !mismatch ? 'refund_pending' : 'succeeded',
    duplicate,
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

  if (alreadyPaid) return secondPayment(trx, deps, { order, paymentId: recorded.id, amount, currency, mismatch, payment });
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

/** Why a second payment's credit note was issued: one wording, whoever issues it (its job, or its refund's webhook). */
export function secondPaymentRefundReason(orderNumber: string): string {
  return `a second payment for order ${orderNumber}, refunded`;
}

/**
 * A second payment for an order that already has one (paid, refunding or
 * refunded): two checkout sessions of the order both paid, as when a payment
 * races a session's expiry after a decline and a retry. The order is one
 * order, fulfilled once: the later money is never the shop's, and which one
 * to give back is not a judgement (the first has the invoice, the sales and
 * the supplier's order), so it is refunded without waiting for a person, by
 * the refund path a late payment takes (order__refund, here for this payment
 * alone), with a credit note and its e-mail. The team is told (warning), as it
 * costs the gateway's fees. Once per payment: the payments row is unique per
 * gateway payment and written under the order's lock, so a repeated event, a
 * retried job or a second worker finds it and returns 'duplicate' before
 * anything here; the refund job, its Idempotency-Key and the credit note's
 * unique index do the rest.
 *
 * Of another amount or currency, it is not the same order paid twice but
 * something nobody here understands (a changed session, a partial capture):
 * flagged for review and alerted as critical, for a person to refund.
 */
async function secondPayment(trx: Trx, deps: PaymentDeps, second: {
  order: { id: string; number: string }; paymentId: string; amount: string; currency: string; mismatch: boolean; payment: ReportedPayment;
}): Promise<PaymentOutcome> {
  const { order, paymentId, payment } = second;
  const money = `${formatAmount(second.amount)} ${second.currency.toUpperCase()}`;
  const log = deps.log.child({ orderId: order.id, paymentId, providerPaymentId: payment.providerPaymentId });
  if (second.mismatch) {
    await flagForReview(trx, order.id, `a second payment of ${money} (${payment.providerPaymentId}), not the order's total, was received`, payment.source);
    await raiseAlert(trx, deps.boss, {
      incidentKey: `second_payment:${order.id}:${paymentId}`, severity: 'critical', orderId: order.id,
      title: `Order ${order.number} received a second payment of ${money}, not its total`,
      text: `Payment ${paymentId} arrived after the order was paid, for another amount or currency than the order's. Nothing was refunded: `
        + 'the order is flagged for review; refund the payment in the gateway\'s dashboard once it is understood.',
    });
    log.warn('second payment of another amount for an order: flagged for review');
    return 'second_payment';
  }
  const reason = secondPaymentRefundReason(order.number);
  const job: RefundOrderJob = { orderId: order.id, reason, paymentId };
  await deps.boss.send(Queues.refundOrder, job, { db: jobsIn(trx) });
  // Raised last in the transaction (see raiseAlert).
  await raiseAlert(trx, deps.boss, {
    incidentKey: `second_payment:${order.id}:${paymentId}`, severity: 'warning', orderId: order.id,
    title: `Order ${order.number} was paid twice: the second payment (${money}) is being refunded`,
    text: `Payment ${paymentId} arrived after the order already had its payment (two checkout sessions both paid). `
      + 'It is refunded automatically with a credit note and an e-mail to the customer; the order stays as it is. '
      + 'Nothing to do unless the refund fails (a dead_letter alert for order__refund would follow).',
  });
  log.warn('second payment for an order: its refund is scheduled');
  return 'second_payment_refund_scheduled';
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
  // A second payment is refunded on its own (completePaymentRefund): the order's refund is not its refund.
  await trx.updateTable('payments').set({ status: 'refunded' }).where('order_id', '=', order.id).where('status', 'in', ['succeeded', 'refund_pending'])
    .where('duplicate', '=', false).execute();
  const creditNote = await issueInvoice(trx, { orderId: order.id, kind: 'credit_note', reason: report.reason, seller: { name: deps.orders.sellerName, address: deps.orders.sellerAddress } });
  const job: RenderInvoicePdfJob = { invoiceId: creditNote.id };
  await deps.boss.send(Queues.renderInvoicePdf, job, { db: jobsIn(trx) });
  deps.log.info({ orderId: order.id, creditNoteId: creditNote.id }, 'order refunded');
  return 'refunded';
}

/**
 * The gateway confirmed the refund of a second payment (the refund job's
 * answer, or its webhook first): the payment is refunded and its own credit
 * note (for the payment's amount, crediting no invoice: the order keeps its
 * own) is issued and mailed. The order is locked first, as completeRefund
 * does, then the payment moves from refund_pending once: whoever comes
 * second finds it refunded and issues nothing.
 */
export async function completePaymentRefund(trx: Trx, deps: PaymentDeps, report: { paymentId: string; reason: string; source: string }): Promise<RefundOutcome> {
  const payment = await trx.selectFrom('payments').select(['order_id']).where('id', '=', report.paymentId).where('duplicate', '=', true).executeTakeFirst();
  if (!payment) return 'unknown_order';
  await trx.selectFrom('orders').select('id').where('id', '=', payment.order_id).forUpdate().executeTakeFirst();
  const refunded = await trx.updateTable('payments').set({ status: 'refunded' })
    .where('id', '=', report.paymentId).where('status', '=', 'refund_pending')
    .returning(['id', 'amount']).executeTakeFirst();
  if (!refunded) return 'no_change';
  const creditNote = await issueInvoice(trx, {
    orderId: payment.order_id, kind: 'credit_note', reason: report.reason, payment: { id: refunded.id, amount: refunded.amount },
    seller: { name: deps.orders.sellerName, address: deps.orders.sellerAddress },
  });
  const job: RenderInvoicePdfJob = { invoiceId: creditNote.id };
  await deps.boss.send(Queues.renderInvoicePdf, job, { db: jobsIn(trx) });
  deps.log.info({ orderId: payment.order_id, paymentId: refunded.id, creditNoteId: creditNote.id, source: report.source }, 'second payment refunded');
  return 'refunded';
}
