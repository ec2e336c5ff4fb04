import { randomInt } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Config } from '../config.ts';
import { prepared, type Db } from '../db/kysely.ts';
import type { Database } from '../db/schema.ts';
import { HttpError } from '../http/http-error.ts';
import { validateCheckout, type CheckoutRequest, type ValidCheckout } from './checkout-request.ts';
import { fromMinorUnits, toMinorUnits } from './money.ts';
import { recordCreated, transitionPayment } from './order-state-machine.ts';

export interface CheckoutDeps {
  db: Db;
  stripe: Stripe;
  config: Pick<Config, 'publicUrl' | 'orders'>;
  log: Logger;
}

export interface CheckoutResult {
  orderId: string;
  number: string;
  /** The gateway's payment page: send the shopper there. */
  redirectUrl: string;
}

/**
 * The gateway did not create the payment page. The order is saved (and
 * marked payment_failed), so the shopper can try again with retryPayment.
 */
export class PaymentGatewayError extends HttpError {
  readonly orderId: string;
  readonly number: string;
  constructor(orderId: string, number: string, options: { cause: unknown }) {
    super(502, 'payment_gateway_unavailable',
      `We could not reach the payment service. Your order ${number} is saved: try paying again in a moment.`);
    this.orderId = orderId;
    this.number = number;
    this.cause = options.cause;
  }
}

type Trx = Transaction<Database>;

/**
 * Places an order and opens the gateway's payment page for it:
 * 1. validates the request (HttpError 400 with a sentence);
 * 2. in one transaction: prices the items from `products`, finds or creates
 *    the customer (by e-mail, whatever its case), picks the sales agent (the
 *    referral code's, else the web shop's), writes the order and its items;
 * 3. after commit, creates the checkout session. No transaction is held
 *    across the network call; the order is already safe when it is made.
 */
export async function createCheckout(deps: CheckoutDeps, request: CheckoutRequest): Promise<CheckoutResult> {
  const valid = validateCheckout(request);
  const { attempt, items } = await placeOrder(deps, valid);
  deps.log.info({ orderId: attempt.id, number: attempt.number, total: attempt.total }, 'order placed');
  return createSession(deps, attempt, items);
}

/** What a checkout session is made from: the order as its payment attempt left it. */
interface PaymentAttempt {
  id: string;
  number: string;
  total: string;
  currency: string;
  customer_email: string;
  payment_attempts: number;
  expires_at: Date;
}

interface SessionItem { name: string; quantity: number; unit_price: string }

interface PlacedOrder { attempt: PaymentAttempt; items: SessionItem[] }

async function placeOrder(deps: CheckoutDeps, valid: ValidCheckout): Promise<PlacedOrder> {
  // A random order number can collide (one in a trillion): then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transaction().execute((trx) => insertOrder(trx, deps, valid, orderNumber()));
    } catch (error) {
      if (attempt < 3 && (error as { constraint?: string }).constraint === 'orders_number_unique') continue;
      throw error;
    }
  }
}

async function insertOrder(trx: Trx, deps: CheckoutDeps, valid: ValidCheckout, number: string): Promise<PlacedOrder> {
  const ids = valid.lines.map((line) => line.productId);
  const products = await trx.selectFrom('products').select(['id', 'name', 'price']).where('id', 'in', ids).execute();
  const byId = new Map(products.map((product) => [product.id, product]));
  const missing = ids.find((id) => !byId.has(id));
  if (missing) throw new HttpError(400, 'unknown_product', `Product ${missing} is not for sale (any more): remove it from your cart.`);

  const customer = await findOrCreateCustomer(trx, valid);
  const address = valid.address ?? await lastAddress(trx, customer.id);
  if (!address) throw new HttpError(400, 'missing_address', 'Enter the address we should send your order to.');
  const agent = await salesAgentFor(trx, valid.referralCode, deps.config.orders.defaultSalesAgent);

  const lines = valid.lines.map((line) => ({ ...line, product: byId.get(line.productId)! }));
  const totalMinor = lines.reduce((sum, line) => sum + toMinorUnits(line.product.price) * BigInt(line.quantity), 0n);
  if (totalMinor <= 0n) throw new HttpError(400, 'nothing_to_pay', 'These products cost nothing: there is nothing to pay.');

  const order = await trx.insertInto('orders').values({
    number,
    customer_id: customer.id,
    sales_agent_id: agent.id,
    referral_code: agent.referralCode,
    currency: deps.config.orders.currency,
    total: fromMinorUnits(totalMinor),
    customer_name: customer.name,
    customer_email: customer.email,
    address_line1: address.line1,
    address_line2: address.line2,
    postal_code: address.postalCode,
    city: address.city,
    country: address.country,
    expires_at: sql<Date>`now() + make_interval(mins => ${deps.config.orders.checkoutTtlMinutes})`,
    // The first payment attempt is counted as the order is placed: its session needs no second
    // write of the row before the gateway is called (retryPayment counts the later ones).
    payment_attempts: 1,
  }).returning(['id', 'number', 'total', 'currency', 'customer_email', 'payment_attempts', 'expires_at']).modifyEnd(prepared).executeTakeFirstOrThrow();
  const items = lines.map((line) => ({
    order_id: order.id, product_id: line.productId, quantity: line.quantity, unit_price: line.product.price, name: line.product.name,
  }));
  await trx.insertInto('order_items').values(items).execute();
  await recordCreated(trx, order.id, 'checkout');
  return { attempt: order, items: items.map(({ name, quantity, unit_price }) => ({ name, quantity, unit_price })) };
}

async function findOrCreateCustomer(trx: Trx, valid: ValidCheckout): Promise<{ id: string; name: string; email: string }> {
  if ('customerId' in valid.customer) {
    const found = await trx.selectFrom('customers').select(['id', 'name', 'email']).where('id', '=', valid.customer.customerId).modifyEnd(prepared).executeTakeFirst();
    if (!found) throw new HttpError(400, 'unknown_customer', 'This customer account does not exist.');
    return found;
  }
  const { email, name, telephone } = valid.customer;
  // Ann@x.org and ann@x.org are one customer (customers_email_unique is on lower(email)).
  // On a concurrent first order the insert waits, then does nothing, and the select sees the winner's row.
  await sql`${prepared} insert into customers (name, email, telephone) values (${name}, ${email}, ${telephone})
            on conflict ((lower(email))) do nothing`.execute(trx);
  const customer = await trx.selectFrom('customers').select(['id', 'name', 'email'])
    .where(sql<string>`lower(email)`, '=', email.toLowerCase()).modifyEnd(prepared).executeTakeFirstOrThrow();
  // The order keeps the name and address typed now; the customer row keeps its own.
  return { id: customer.id, name, email: customer.email };
}

async function lastAddress(trx: Trx, customerId: string): Promise<NonNullable<ValidCheckout['address']> | null> {
  const row = await trx.selectFrom('orders').select(['address_line1', 'address_line2', 'postal_code', 'city', 'country'])
    .where('customer_id', '=', customerId).orderBy('id', 'desc').limit(1).modifyEnd(prepared).executeTakeFirst();
  return row ? { line1: row.address_line1, line2: row.address_line2, postalCode: row.postal_code, city: row.city, country: row.country } : null;
}

async function salesAgentFor(trx: Trx, referralCode: string | null, defaultAgent: string): Promise<{ id: string; referralCode: string | null }> {
  if (referralCode) {
    const agent = await trx.selectFrom('sales_agents').select(['id', 'referral_code'])
      .where(sql<string>`lower(referral_code)`, '=', referralCode.toLowerCase()).modifyEnd(prepared).executeTakeFirst();
    // An unknown or withdrawn code must not stop a purchase: the web shop sells it.
    if (agent) return { id: agent.id, referralCode: agent.referral_code };
  }
  const { rows: [row] } = await sql<{ id: string }>`${prepared} select order_default_sales_agent(${defaultAgent})::text as id`.execute(trx);
  return { id: row!.id, referralCode: null };
}

/** TT-XXXX-XXXX in Crockford's base 32 (no I, L, O, U: nothing to misread on the phone). */
function orderNumber(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const chars = Array.from({ length: 8 }, () => alphabet[randomInt(alphabet.length)]).join('');
  return `TT-${chars.slice(0, 4)}-${chars.slice(4)}`;
}

/**
 * The gateway remembers keys for a day, across databases: the order number
 * (random) keeps a development database that was reset, and so reuses order
 * ids, from being answered with another database's sessions.
 */
export function checkoutIdempotencyKey(orderId: string, number: string, attempt: number): string {
  return `tanktop-order-${orderId}-${number}-checkout-${attempt}`;
}

/**
 * A shopper asks to pay a declined or failed order again: a new checkout
 * session (a new attempt, so a new idempotency key). The old session is
 * expired first, so it cannot be paid as well. Pressing the button twice
 * returns the same page.
 */
export async function retryPayment(deps: CheckoutDeps, orderId: string): Promise<CheckoutResult> {
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const order = await trx.selectFrom('orders').select(['id', 'number', 'payment_state', 'checkout_url', 'checkout_session_id', 'needs_review'])
      .where('id', '=', orderId).forUpdate().executeTakeFirst();
    if (!order) throw new HttpError(404, 'unknown_order', 'There is no such order.');
    if (order.payment_state === 'pending_payment' && order.checkout_url) {
      return { kind: 'open' as const, result: { orderId: order.id, number: order.number, redirectUrl: order.checkout_url } };
    }
    if (order.payment_state !== 'payment_failed' || order.needs_review) {
      throw new HttpError(409, 'order_not_payable', `Order ${order.number} is ${order.payment_state.replace(/_/g, ' ')}: it cannot be paid again.`);
    }
    await transitionPayment(trx, { orderId: order.id, to: 'pending_payment', from: ['payment_failed'], reason: 'payment retried', source: 'retry' }, deps.log);
    // Forget the old session first: its expiry event must not expire the order.
    await trx.updateTable('orders').set({
      checkout_session_id: null, checkout_url: null, payment_intent_id: null,
      expires_at: sql<Date>`now() + make_interval(mins => ${deps.config.orders.checkoutTtlMinutes})`,
    }).where('id', '=', order.id).execute();
    return { kind: 'retry' as const, oldSession: order.checkout_session_id };
  });
  if (outcome.kind === 'open') return outcome.result;
  if (outcome.oldSession) {
    await deps.stripe.checkout.sessions.expire(outcome.oldSession).catch((error: unknown) =>
      deps.log.info({ orderId, session: outcome.oldSession, err: error }, 'the previous checkout session could not be expired (already ended?)'));
  }
  return openCheckoutSession(deps, orderId);
}

/** Counts the order's next payment attempt (it must be waiting for a payment, with no session), then opens its session. */
async function openCheckoutSession(deps: CheckoutDeps, orderId: string): Promise<CheckoutResult> {
  const order = await deps.db.updateTable('orders').set((eb) => ({ payment_attempts: eb('payment_attempts', '+', 1) }))
    .where('id', '=', orderId).where('payment_state', '=', 'pending_payment').where('checkout_session_id', 'is', null)
    .returning(['id', 'number', 'total', 'currency', 'customer_email', 'payment_attempts', 'expires_at'])
    .modifyEnd(prepared)
    .executeTakeFirst();
  if (!order) throw new HttpError(409, 'order_not_payable', 'This order is not waiting for a payment.');
  const items = await deps.db.selectFrom('order_items').select(['name', 'quantity', 'unit_price']).where('order_id', '=', orderId).orderBy('id').modifyEnd(prepared).execute();
  return createSession(deps, order, items);
}

/**
 * Creates the checkout session of a counted payment attempt and stores it.
 * The idempotency key is the order and attempt: a retried request (the SDK's,
 * or ours after a crash) gets the same session back instead of a second one.
 * If the gateway cannot be reached, the order becomes payment_failed, from
 * where retryPayment starts a new attempt.
 */
async function createSession(deps: CheckoutDeps, order: PaymentAttempt, items: readonly SessionItem[]): Promise<CheckoutResult> {
  const orderId = order.id;
  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.create({
      mode: 'payment',
      client_reference_id: order.id,
      customer_email: order.customer_email,
      metadata: { order_id: order.id, order_number: order.number },
      payment_intent_data: { metadata: { order_id: order.id, order_number: order.number } },
      line_items: items.map((item) => ({
        quantity: item.quantity,
        price_data: { currency: order.currency, unit_amount: Number(toMinorUnits(item.unit_price)), product_data: { name: item.name } },
      })),
      expires_at: Math.floor(order.expires_at.getTime() / 1000),
      success_url: `${deps.config.publicUrl}/orders/${order.number}/thanks?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${deps.config.publicUrl}/orders/${order.number}`,
    }, { idempotencyKey: checkoutIdempotencyKey(order.id, order.number, order.payment_attempts) });
    if (!session.url) throw new Error(`checkout session ${session.id} has no url`);
  } catch (error) {
    deps.log.warn({ orderId, err: error }, 'the payment gateway did not create a checkout session');
    await deps.db.transaction().execute((trx) => transitionPayment(trx, {
      orderId, to: 'payment_failed', from: ['pending_payment'], reason: `checkout session not created: ${(error as Error).message}`.slice(0, 500), source: 'checkout',
    }, deps.log));
    throw new PaymentGatewayError(order.id, order.number, { cause: error });
  }
  await deps.db.updateTable('orders').set({ checkout_session_id: session.id, checkout_url: session.url })
    .where('id', '=', order.id).where('checkout_session_id', 'is', null).modifyEnd(prepared).execute();
  return { orderId: order.id, number: order.number, redirectUrl: session.url! };
}
