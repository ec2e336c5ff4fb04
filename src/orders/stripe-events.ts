import type { Transaction } from 'kysely';
import type Stripe from 'stripe';
import type { Database } from '../db/schema.ts';
import {
  applyPaymentFailed, applyPaymentProcessing, applyPaymentSuccess, applySessionExpired, completePaymentRefund, completeRefund, secondPaymentRefundReason, type PaymentDeps,
} from './payment.service.ts';
import { flagForReview } from './order-state-machine.ts';
import { prepared } from '../db/kysely.ts';

type Trx = Transaction<Database>;

/**
 * The event types the shop's webhook endpoint subscribes to (a Stripe
 * endpoint's enabled_events; make start's gateway sandbox uses this list).
 * A Checkout payment is announced by checkout.session.completed, so
 * payment_intent.succeeded is left out: it says the same a second time, and
 * receiving it would cost a stored event and a job per payment for nothing.
 * An endpoint subscribed to everything still works: applyStripeEvent handles
 * payment_intent.succeeded as the same payment, and ignores unknown types.
 */
export const SUBSCRIBED_EVENT_TYPES: readonly string[] = Object.freeze([
  'checkout.session.completed',
  'checkout.session.async_payment_succeeded',
  'checkout.session.async_payment_failed',
  'checkout.session.expired',
  'payment_intent.processing',
  'payment_intent.payment_failed',
  'charge.refunded',
  'refund.created',
  'refund.updated',
]);

/** What processing an event did, stored in webhook_events.outcome. */
export type EventOutcome = string;

/**
 * Applies one gateway event to its order, in the caller's transaction. Every
 * branch is idempotent and order-insensitive: the state machine refuses what
 * does not follow from the current state (a decline after the payment, an
 * expiry after a retry), and a payment is applied once however often, and in
 * whatever order, its events arrive.
 */
export async function applyStripeEvent(trx: Trx, deps: PaymentDeps, event: Stripe.Event): Promise<EventOutcome> {
  const source = event.id;
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const session = event.data.object;
      const orderId = await orderOf(trx, { metadata: session.metadata, clientReferenceId: session.client_reference_id, sessionId: session.id });
      if (!orderId) return 'ignored: no order';
      if (session.payment_status === 'unpaid') return applyPaymentProcessing(trx, deps, { orderId, source });
      if (session.payment_status !== 'paid') return `ignored: payment status ${session.payment_status}`;
      const intentId = idOf(session.payment_intent);
      return applyPaymentSuccess(trx, deps, {
        orderId, providerPaymentId: intentId ?? session.id, paymentIntentId: intentId,
        amountMinor: session.amount_total ?? 0, currency: session.currency ?? '', raw: session, source,
      });
    }
    case 'payment_intent.succeeded': {
      const intent = event.data.object;
      const orderId = await orderOf(trx, { metadata: intent.metadata, paymentIntentId: intent.id });
      if (!orderId) return 'ignored: no order';
      return applyPaymentSuccess(trx, deps, {
        orderId, providerPaymentId: intent.id, paymentIntentId: intent.id,
        amountMinor: intent.amount_received || intent.amount, currency: intent.currency, raw: intent, source,
      });
    }
    case 'payment_intent.processing': {
      const intent = event.data.object;
      const orderId = await orderOf(trx, { metadata: intent.metadata, paymentIntentId: intent.id });
      return orderId ? applyPaymentProcessing(trx, deps, { orderId, source }) : 'ignored: no order';
    }
    case 'payment_intent.payment_failed': {
      const intent = event.data.object;
      const orderId = await orderOf(trx, { metadata: intent.metadata, paymentIntentId: intent.id });
      if (!orderId) return 'ignored: no order';
      const reason = intent.last_payment_error?.message ?? 'payment failed';
      return applyPaymentFailed(trx, deps, { orderId, paymentIntentId: intent.id, reason: `payment failed: ${reason}`, source });
    }
    case 'checkout.session.async_payment_failed': {
      const session = event.data.object;
      const orderId = await orderOf(trx, { metadata: session.metadata, clientReferenceId: session.client_reference_id, sessionId: session.id });
      if (!orderId) return 'ignored: no order';
      return applyPaymentFailed(trx, deps, { orderId, paymentIntentId: idOf(session.payment_intent), reason: 'asynchronous payment failed', source });
    }
    case 'checkout.session.expired': {
      const session = event.data.object;
      const orderId = await orderOf(trx, { metadata: session.metadata, clientReferenceId: session.client_reference_id, sessionId: session.id });
      return orderId ? applySessionExpired(trx, deps, { orderId, sessionId: session.id, source }) : 'ignored: no order';
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      // A second payment's refund is that payment's, never the order's (which keeps its first payment).
      const second = await secondPaymentOf(trx, idOf(charge.payment_intent));
      if (second) {
        if (charge.refunded) return completePaymentRefund(trx, deps, { paymentId: second.id, reason: second.reason, source });
        await flagForReview(trx, second.order_id, `a partial refund of ${charge.amount_refunded} (minor units) of a second payment was made in the gateway`, source);
        return 'partial_refund';
      }
      const orderId = await orderOf(trx, { metadata: charge.metadata, paymentIntentId: idOf(charge.payment_intent) });
      if (!orderId) return 'ignored: no order';
      if (!charge.refunded) {
        // A partial refund made in the gateway's dashboard: not something the workflow decides.
        await flagForReview(trx, orderId, `a partial refund of ${charge.amount_refunded} (minor units) was made in the gateway`, source);
        return 'partial_refund';
      }
      return completeRefund(trx, deps, { orderId, reason: 'refunded by the payment gateway', source });
    }
    case 'refund.created':
    case 'refund.updated': {
      const refund = event.data.object;
      if (refund.status !== 'succeeded') return `ignored: refund ${refund.status ?? 'pending'}`;
      const second = await secondPaymentOf(trx, idOf(refund.payment_intent));
      if (second) return completePaymentRefund(trx, deps, { paymentId: second.id, reason: second.reason, source });
      const orderId = await orderOf(trx, { metadata: refund.metadata, paymentIntentId: idOf(refund.payment_intent) });
      if (!orderId) return 'ignored: no order';
      // Only our own refunds (order refund_pending): whether one from the dashboard is whole, charge.refunded says.
      const order = await trx.selectFrom('orders').select('payment_state').where('id', '=', orderId).executeTakeFirst();
      if (order?.payment_state !== 'refund_pending') return 'ignored: no refund pending';
      // The credit note says why the refund was asked for, whether this webhook or the refund job gets there first.
      const asked = await trx.selectFrom('order_events').select('reason')
        .where('order_id', '=', orderId).where('dimension', '=', 'payment').where('to_state', '=', 'refund_pending')
        .orderBy('id', 'desc').limit(1).executeTakeFirst();
      return completeRefund(trx, deps, { orderId, reason: asked?.reason ?? 'refunded', source });
    }
    default:
      return `ignored: ${event.type}`;
  }
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

/**
 * The second payment (payments.duplicate) a payment intent is, if it is one,
 * and the reason its credit note gives (as the payment's refund job words it).
 */
async function secondPaymentOf(trx: Trx, paymentIntentId: string | null): Promise<{ id: string; order_id: string; reason: string } | undefined> {
  if (!paymentIntentId) return undefined;
  const row = await trx.selectFrom('payments as p').innerJoin('orders as o', 'o.id', 'p.order_id').select(['p.id', 'p.order_id', 'o.number'])
    .where('p.provider', '=', 'stripe').where('p.provider_payment_id', '=', paymentIntentId).where('p.duplicate', '=', true).executeTakeFirst();
  return row && { id: row.id, order_id: row.order_id, reason: secondPaymentRefundReason(row.number) };
}

/**
 * The order an object is about: our metadata (set on the session and, through
 * payment_intent_data, on its payment intent), else the client reference,
 * else the ids the order has stored. Anything that is not one of our order
 * ids is not ours (another integration on the same account).
 */
async function orderOf(trx: Trx, refs: { metadata?: Stripe.Metadata | null; clientReferenceId?: string | null; sessionId?: string; paymentIntentId?: string | null }): Promise<string | null> {
  const candidate = refs.metadata?.order_id ?? refs.clientReferenceId ?? null;
  if (candidate && /^[1-9][0-9]{0,17}$/.test(candidate)) {
    const order = await trx.selectFrom('orders').select('id').where('id', '=', candidate).modifyEnd(prepared).executeTakeFirst();
    if (order) return order.id;
  }
  if (refs.sessionId) {
    const order = await trx.selectFrom('orders').select('id').where('checkout_session_id', '=', refs.sessionId).executeTakeFirst();
    if (order) return order.id;
  }
  if (refs.paymentIntentId) {
    const order = await trx.selectFrom('orders').select('id').where('payment_intent_id', '=', refs.paymentIntentId).executeTakeFirst();
    if (order) return order.id;
    const payment = await trx.selectFrom('payments').select('order_id').where('provider_payment_id', '=', refs.paymentIntentId).executeTakeFirst();
    if (payment) return payment.order_id;
  }
  return null;
}
