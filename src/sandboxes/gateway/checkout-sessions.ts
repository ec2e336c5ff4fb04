import type { Emit, Origin } from './events.ts';
import type { FormObject } from './form-decoder.ts';
import { nowSeconds, type GatewayStore } from './gateway-store.ts';
import {
  child, httpUrl, metadata, objectItem, optionalInteger, optionalObject, optionalString, rejectUnknown,
  requiredArray, requiredInteger, requiredString,
} from './params.ts';
import { StripeApiError, parameterInvalid, resourceMissing } from './stripe-error.ts';
import { checkoutSessionId, stripeId } from './stripe-ids.ts';
import type { CheckoutSession, LineItem } from './stripe-objects.ts';

const DAY = 24 * 60 * 60;
const MIN_EXPIRY = 30 * 60;
/** Stripe's largest amount for a card payment (99,999,999 in the minor unit, e.g. $999,999.99). */
const MAX_AMOUNT = 99_999_999;

/** Accepted because stripe-node users send them, but with no effect in the sandbox (cards only, hosted page only). */
const ACCEPTED_WITHOUT_EFFECT = ['payment_method_types', 'locale', 'submit_type', 'billing_address_collection', 'customer_creation', 'ui_mode', 'expand'];

const SESSION_PARAMS = [
  'mode', 'line_items', 'success_url', 'cancel_url', 'client_reference_id', 'customer_email', 'metadata', 'expires_at',
  'payment_intent_data', ...ACCEPTED_WITHOUT_EFFECT,
];

export function createCheckoutSession(store: GatewayStore, params: FormObject, publicUrl: string): CheckoutSession {
  rejectUnknown(params, SESSION_PARAMS);
  const mode = requiredString(params, 'mode');
  if (mode !== 'payment') throw parameterInvalid('mode', `The sandbox supports mode=payment only, not ${mode}.`, 'parameter_invalid_string');
  const uiMode = optionalString(params, 'ui_mode');
  if (uiMode !== null && uiMode !== 'hosted') throw parameterInvalid('ui_mode', `The sandbox supports ui_mode=hosted only, not ${uiMode}.`);
  const id = checkoutSessionId();
  const created = nowSeconds();
  const items = lineItems(params, created);
  const currency = items[0]?.currency as string;
  const total = items.reduce((sum, item) => sum + item.amount_total, 0);
  if (total > MAX_AMOUNT) throw parameterInvalid('line_items', `The total amount due must be no more than ${MAX_AMOUNT} in the smallest currency unit.`, 'amount_too_large');
  const intentData = optionalObject(params, 'payment_intent_data');
  if (intentData) rejectUnknown(intentData, ['metadata', 'description'], 'payment_intent_data');
  const session: CheckoutSession = {
    id,
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    amount_subtotal: total,
    amount_total: total,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: httpUrl(params, 'cancel_url'),
    client_reference_id: optionalString(params, 'client_reference_id', '', 200),
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created,
    currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null,
    customer_creation: 'if_required',
    customer_details: null,
    customer_email: optionalString(params, 'customer_email', '', 800),
    discounts: [],
    expires_at: expiresAt(store, params, created),
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    metadata: metadata(params, 'metadata'),
    mode: 'payment',
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'if_required',
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: httpUrl(params, 'success_url'),
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    url: `${publicUrl}/pay/${id}`,
    wallet_options: null,
  };
  store.sessions.set(id, session);
  store.lineItems.set(id, items);
  store.paymentIntentData.set(id, {
    description: intentData ? optionalString(intentData, 'description', 'payment_intent_data') : null,
    metadata: intentData ? metadata(intentData, 'metadata', 'payment_intent_data') : {},
  });
  store.openSessions.add(id);
  return session;
}

function lineItems(params: FormObject, created: number): LineItem[] {
  const raw = requiredArray(params, 'line_items');
  if (raw.length === 0) throw parameterInvalid('line_items', 'line_items must contain at least one item.', 'parameter_invalid_empty');
  if (raw.length > 100) throw parameterInvalid('line_items', 'line_items can contain at most 100 items.', 'parameter_invalid_array');
  const items = raw.map((value, index) => lineItem(objectItem(value, `line_items[${index}]`), `line_items[${index}]`, created));
  const currencies = new Set(items.map((item) => item.currency));
  if (currencies.size > 1) throw parameterInvalid('line_items', `All line items must have the same currency, not ${[...currencies].join(' and ')}.`);
  return items;
}

function lineItem(params: FormObject, path: string, created: number): LineItem {
  rejectUnknown(params, ['price_data', 'quantity'], path);
  if (params.price_data === undefined) {
    throw new StripeApiError(400, 'invalid_request_error', `The sandbox needs ${path}[price_data]: it has no catalogue of prices.`, { code: 'parameter_missing', param: child(path, 'price_data'), remembered: false });
  }
  const quantity = requiredInteger(params, 'quantity', path, 1);
  const pricePath = child(path, 'price_data');
  const priceData = objectItem(params.price_data, pricePath);
  rejectUnknown(priceData, ['currency', 'unit_amount', 'product_data', 'tax_behavior'], pricePath);
  const currency = requiredString(priceData, 'currency', pricePath).toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw parameterInvalid(child(pricePath, 'currency'), `Invalid currency: ${currency}.`);
  const unitAmount = requiredInteger(priceData, 'unit_amount', pricePath, 0);
  const productPath = child(pricePath, 'product_data');
  const productData = optionalObject(priceData, 'product_data', pricePath);
  if (!productData) throw parameterInvalid(productPath, `Missing required param: ${productPath}.`, 'parameter_missing');
  rejectUnknown(productData, ['name', 'description', 'images', 'metadata', 'tax_code'], productPath);
  const name = requiredString(productData, 'name', productPath, 5000);
  metadata(productData, 'metadata', productPath);
  const amount = unitAmount * quantity;
  return {
    id: stripeId('li'),
    object: 'item',
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency,
    description: name,
    price: {
      id: stripeId('price'),
      object: 'price',
      active: false,
      billing_scheme: 'per_unit',
      created,
      currency,
      livemode: false,
      lookup_key: null,
      metadata: {},
      nickname: null,
      product: stripeId('prod', 14),
      recurring: null,
      tax_behavior: 'unspecified',
      type: 'one_time',
      unit_amount: unitAmount,
      unit_amount_decimal: String(unitAmount),
    },
    quantity,
  };
}

/** Stripe allows 30 minutes to 24 hours; the sandbox allows seconds when the control API says so. */
function expiresAt(store: GatewayStore, params: FormObject, created: number): number {
  const value = optionalInteger(params, 'expires_at');
  if (value === null) return created + DAY;
  const minimum = store.allowShortExpiry ? 1 : MIN_EXPIRY;
  if (value < created + minimum) {
    throw parameterInvalid('expires_at', store.allowShortExpiry
      ? 'The `expires_at` timestamp must be in the future.'
      : 'The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', 'parameter_invalid_integer');
  }
  if (value > created + DAY) throw parameterInvalid('expires_at', 'The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', 'parameter_invalid_integer');
  return value;
}

export function findSession(store: GatewayStore, id: string): CheckoutSession {
  const session = store.sessions.get(id);
  if (!session) throw resourceMissing('checkout.session', id, 'session');
  return session;
}

/**
 * Expires an open session (the API's expire, the clock, the control API):
 * the hosted page stops taking payments, a payment intent left by a declined
 * attempt is canceled, and `checkout.session.expired` goes out.
 */
export function expireSession(store: GatewayStore, emit: Emit, session: CheckoutSession, origin: Origin): void {
  if (session.status !== 'open') {
    throw new StripeApiError(400, 'invalid_request_error',
      `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`,
      { code: 'checkout_session_not_open', param: 'session' });
  }
  session.status = 'expired';
  session.url = null;
  store.openSessions.delete(session.id);
  emit('checkout.session.expired', session, origin);
  const intent = session.payment_intent ? store.paymentIntents.get(session.payment_intent) : undefined;
  if (intent && intent.status !== 'succeeded' && intent.status !== 'canceled') {
    intent.status = 'canceled';
    intent.canceled_at = nowSeconds();
    intent.cancellation_reason = 'abandoned';
    emit('payment_intent.canceled', intent, origin);
  }
}

/** The clock's part: every open session whose `expires_at` has passed expires. */
export function expireDueSessions(store: GatewayStore, emit: Emit, now = nowSeconds()): number {
  let expired = 0;
  for (const id of [...store.openSessions]) {
    const session = store.sessions.get(id);
    if (session && session.expires_at <= now) {
      expireSession(store, emit, session, { requestId: null, idempotencyKey: null });
      expired++;
    }
  }
  return expired;
}
