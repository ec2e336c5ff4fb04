/**
 * With --web N: shoppers check out over HTTP, as browsers do, through the
 * shop's form (POST /shop/checkout: form parsing, CSRF check, createCheckout,
 * the 303 to the gateway's payment page), spread round-robin over the N web
 * processes (a client-side load balancer: no extra hop on these 2 cores).
 * Each shopper's basket is shopperRequest's; a known customer types their
 * e-mail address, as the form asks (the service finds them by it).
 */
import type pg from 'pg';
import type { CheckoutRequest } from '../../src/orders/checkout-request.ts';
import type { PlacedOrder } from './shoppers.ts';

/** A browser's visit to the shop page: the CSRF cookie and the form's token, good for every checkout after. */
interface Visit {
  base: string;
  cookie: string;
  token: string;
}

export type Checkout = (request: CheckoutRequest) => Promise<PlacedOrder>;

export async function httpShop(baseUrls: readonly string[], pool: pg.Pool): Promise<Checkout> {
  const { rows } = await pool.query<{ id: string; email: string; name: string }>('/* bench */ select id::text, email, name from customers');
  const customers = new Map(rows.map((row) => [row.id, row]));
  const visits = await Promise.all(baseUrls.map(visitShop));
  let turn = 0;
  return async (request) => {
    const visit = visits[turn++ % visits.length]!;
    const started = performance.now();
    const response = await fetch(`${visit.base}/shop/checkout`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: visit.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: formOf(request, visit.token, customers),
    });
    const location = response.headers.get('location');
    await response.arrayBuffer();
    if (response.status !== 303 || !location) throw new Error(`POST ${visit.base}/shop/checkout answered ${response.status}, not a 303 to the payment page`);
    const checkoutMs = performance.now() - started;
    // The payment page is <gateway>/pay/<checkout session id>.
    const sessionId = new URL(location).pathname.split('/').pop()!;
    const { rows: [order] } = await pool.query<{ id: string; number: string }>('/* bench */ select id::text, number from orders where checkout_session_id = $1', [sessionId]);
    if (!order) throw new Error(`no order has the checkout session ${sessionId} the shop sent the shopper to`);
    return { orderId: order.id, number: order.number, sessionId, checkoutMs };
  };
}

async function visitShop(base: string): Promise<Visit> {
  const page = await fetch(`${base}/shop`);
  const html = await page.text();
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (page.status !== 200 || !token) throw new Error(`GET ${base}/shop answered ${page.status} without the order form's CSRF token`);
  return {
    base,
    cookie: page.headers.getSetCookie().map((line) => line.split(';')[0]).join('; '),
    // Handlebars escapes '=' in attribute values.
    token: token.replaceAll('&#x3D;', '='),
  };
}

function formOf(request: CheckoutRequest, token: string, customers: Map<string, { email: string; name: string }>): string {
  const form = new URLSearchParams({ _csrf: token });
  for (const item of request.items) form.set(`qty_${item.productId}`, String(item.quantity));
  const customer = 'customerId' in request.customer ? customers.get(String(request.customer.customerId)) : request.customer;
  if (!customer) throw new Error('a known shopper is not among the customers');
  const address = request.customer.address;
  form.set('email', customer.email);
  form.set('name', customer.name);
  if (address) {
    form.set('line1', address.line1);
    form.set('postal_code', address.postalCode);
    form.set('city', address.city);
    form.set('country', address.country);
  }
  if (request.referralCode) form.set('referral_code', request.referralCode);
  return form.toString();
}
