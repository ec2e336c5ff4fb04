/**
 * Shoppers: what they order, and the checkout as the shop's route runs it
 * (createCheckout, the service behind POST /shop/checkout, called in the
 * app's process with the app's pool and gateway client; the route's form
 * parsing, CSRF check and redirect are left out). With --web N the checkout
 * is the route itself, over HTTP (http-shop.ts).
 */
import { createCheckout, type CheckoutDeps } from '../../src/orders/checkout.service.ts';
import type { CheckoutRequest } from '../../src/orders/checkout-request.ts';
import { seededRandom } from '../../src/seed/random.ts';
import type { Catalogue } from './database.ts';
import { KNOWN_CUSTOMER_SHARE, REFERRAL_SHARE } from './model.ts';

export interface PlacedOrder {
  orderId: string;
  number: string;
  sessionId: string;
  checkoutMs: number;
}

const ADDRESSES = [
  { line1: '1 High Street', postalCode: 'LS1 1AA', city: 'Leeds', country: 'GB' },
  { line1: 'Hauptstraße 5', postalCode: '10115', city: 'Berlin', country: 'DE' },
  { line1: '12 rue de la Paix', postalCode: '75002', city: 'Paris', country: 'FR' },
];

/**
 * The n-th shopper's request, the same for the same n on every run: one to
 * three products, one to three of each; half of them customers already in
 * the database, half new ones (one new e-mail address per order); a third
 * through a sales agent's referral code.
 */
export function shopperRequest(catalogue: Catalogue, n: number): CheckoutRequest {
  const random = seededRandom(1_000_003 * n + 7);
  const lines = random.int(1, 3);
  const products = new Set<string>();
  while (products.size < lines) products.add(catalogue.productIds[random.int(0, catalogue.productIds.length - 1)]!);
  const address = ADDRESSES[random.int(0, ADDRESSES.length - 1)]!;
  const known = random.next() < KNOWN_CUSTOMER_SHARE;
  return {
    items: [...products].map((productId) => ({ productId, quantity: random.int(1, 3) })),
    customer: known
      ? { customerId: catalogue.customerIds[random.int(0, catalogue.customerIds.length - 1)]!, address }
      : { email: `shopper-${n}@bench.example.com`, name: `Shopper ${n}`, address },
    referralCode: random.next() < REFERRAL_SHARE ? catalogue.referralCodes[random.int(0, catalogue.referralCodes.length - 1)]! : null,
  };
}

export async function placeOrder(deps: CheckoutDeps, request: CheckoutRequest): Promise<PlacedOrder> {
  const started = performance.now();
  const result = await createCheckout(deps, request);
  // The payment page is <gateway>/pay/<checkout session id>.
  const sessionId = new URL(result.redirectUrl).pathname.split('/').pop()!;
  return { orderId: result.orderId, number: result.number, sessionId, checkoutMs: performance.now() - started };
}

/** The in-process checkout, as a Checkout. */
export function inProcessCheckout(deps: CheckoutDeps): (request: CheckoutRequest) => Promise<PlacedOrder> {
  return (request) => placeOrder(deps, request);
}

/** Checkouts n = first … first + count − 1, `concurrency` at a time, in order of n. */
export async function placeOrders(checkout: (request: CheckoutRequest) => Promise<PlacedOrder>, catalogue: Catalogue, first: number, count: number, concurrency: number,
  signal: AbortSignal, onProgress: (done: number) => void): Promise<PlacedOrder[]> {
  const placed: PlacedOrder[] = new Array(count);
  let next = 0;
  let done = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    for (let i = next++; i < count && !signal.aborted; i = next++) {
      placed[i] = await checkout(shopperRequest(catalogue, first + i));
      onProgress(++done);
    }
  }));
  return placed.filter(Boolean);
}
