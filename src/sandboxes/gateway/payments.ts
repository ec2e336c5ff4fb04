import { randomBytes } from 'node:crypto';
import type { Emit, Origin } from './events.ts';
import { nowSeconds, type GatewayStore } from './gateway-store.ts';
import { StripeApiError } from './stripe-error.ts';
import { stripeId } from './stripe-ids.ts';
import type { Charge, CheckoutSession, PaymentIntent, PaymentMethod } from './stripe-objects.ts';

/** Stripe's test cards: 4242… pays, 4000 0000 0000 0002 is declined. */
const PAYING_CARD = '4242';
const DECLINED_CARD = '0002';

export interface PaymentOverride {
  /** Charge this instead of the session's total (a gateway that disagrees with the shop). */
  amount?: number;
  currency?: string;
}

export type PaymentOutcome = 'paid' | 'declined';

export function assertOpen(session: CheckoutSession): void {
  if (session.status !== 'open') {
    throw new StripeApiError(409, 'invalid_request_error', `This Checkout Session is ${session.status}: it can no longer be paid.`, { code: 'checkout_session_not_open', param: 'session' });
  }
}

/**
 * The customer pays: the payment intent succeeds with a charge, the session
 * completes, and `checkout.session.completed` then `payment_intent.succeeded`
 * go out. An override changes what the gateway charged, session included, as
 * the shop would see it when the two disagree.
 */
export function paySession(store: GatewayStore, emit: Emit, session: CheckoutSession, override: PaymentOverride, origin: Origin): PaymentIntent {
  assertOpen(session);
  if (override.amount !== undefined) {
    session.amount_total = override.amount;
    session.amount_subtotal = override.amount;
  }
  if (override.currency !== undefined) session.currency = override.currency;
  const intent = paymentIntentFor(store, session);
  intent.amount = session.amount_total;
  intent.currency = session.currency;
  const method = paymentMethod(PAYING_CARD, session.customer_email);
  const charge = newCharge(intent, method, 'succeeded');
  store.charges.set(charge.id, charge);
  intent.status = 'succeeded';
  intent.amount_received = intent.amount;
  intent.latest_charge = charge.id;
  intent.payment_method = method.id;
  intent.last_payment_error = null;
  session.status = 'complete';
  session.payment_status = 'paid';
  session.url = null;
  session.customer_details = { address: null, email: session.customer_email ?? 'customer@example.com', name: null, phone: null, tax_exempt: 'none', tax_ids: [] };
  store.openSessions.delete(session.id);
  emit('checkout.session.completed', session, origin);
  emit('payment_intent.succeeded', intent, origin);
  return intent;
}

/**
 * The card is declined: the payment intent waits for another card with
 * `last_payment_error` set, `payment_intent.payment_failed` goes out, and the
 * session stays open for another try.
 */
export function declineSession(store: GatewayStore, emit: Emit, session: CheckoutSession, origin: Origin): PaymentIntent {
  assertOpen(session);
  const intent = paymentIntentFor(store, session);
  const method = paymentMethod(DECLINED_CARD, session.customer_email);
  const charge = newCharge(intent, method, 'failed');
  store.charges.set(charge.id, charge);
  intent.status = 'requires_payment_method';
  intent.latest_charge = charge.id;
  intent.payment_method = null;
  intent.last_payment_error = {
    charge: charge.id,
    code: 'card_declined',
    decline_code: 'generic_decline',
    doc_url: 'https://stripe.com/docs/error-codes/card-declined',
    message: 'Your card was declined.',
    payment_method: method,
    type: 'card_error',
  };
  emit('payment_intent.payment_failed', intent, origin);
  return intent;
}

/** Checkout creates the payment intent when the customer first tries to pay, as Stripe does. */
function paymentIntentFor(store: GatewayStore, session: CheckoutSession): PaymentIntent {
  const existing = session.payment_intent ? store.paymentIntents.get(session.payment_intent) : undefined;
  if (existing) return existing;
  const data = store.paymentIntentData.get(session.id);
  const id = stripeId('pi');
  const intent: PaymentIntent = {
    id,
    object: 'payment_intent',
    amount: session.amount_total,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${randomBytes(12).toString('base64url')}`,
    confirmation_method: 'automatic',
    created: nowSeconds(),
    currency: session.currency,
    customer: null,
    description: data?.description ?? null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata: { ...data?.metadata },
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    processing: null,
    receipt_email: session.customer_email,
    review: null,
    setup_future_usage: null,
    shipping: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
  store.paymentIntents.set(id, intent);
  session.payment_intent = id;
  return intent;
}

function paymentMethod(last4: string, email: string | null): PaymentMethod {
  return {
    id: stripeId('pm'),
    object: 'payment_method',
    billing_details: { address: null, email, name: null, phone: null },
    card: { brand: 'visa', country: 'US', exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, funding: 'credit', last4 },
    created: nowSeconds(),
    customer: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

function newCharge(intent: PaymentIntent, method: PaymentMethod, status: Charge['status']): Charge {
  const succeeded = status === 'succeeded';
  return {
    id: stripeId('ch'),
    object: 'charge',
    amount: intent.amount,
    amount_captured: succeeded ? intent.amount : 0,
    amount_refunded: 0,
    balance_transaction: succeeded ? stripeId('txn') : null,
    billing_details: method.billing_details,
    captured: succeeded,
    created: nowSeconds(),
    currency: intent.currency,
    customer: null,
    description: intent.description,
    disputed: false,
    failure_code: succeeded ? null : 'card_declined',
    failure_message: succeeded ? null : 'Your card was declined.',
    livemode: false,
    metadata: { ...intent.metadata },
    outcome: succeeded
      ? { network_status: 'approved_by_network', reason: null, risk_level: 'normal', seller_message: 'Payment complete.', type: 'authorized' }
      : { network_status: 'declined_by_network', reason: 'generic_decline', risk_level: 'normal', seller_message: 'The bank did not return any further details with this decline.', type: 'issuer_declined' },
    paid: succeeded,
    payment_intent: intent.id,
    payment_method: method.id,
    payment_method_details: { card: method.card, type: 'card' },
    receipt_email: intent.receipt_email,
    receipt_url: null,
    refunded: false,
    status,
  };
}
