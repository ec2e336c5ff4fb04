import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { gatewaySandboxClient, type GatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox } from '../../src/sandboxes/gateway/gateway-sandbox.ts';
import { orderAccess, type OrderAccess } from '../../src/shop/order-access.ts';
import { freshDatabase, testLog, type TestDatabase } from '../helpers/database.ts';
import { cookieHeader, formToken, unescapeHtml } from '../stats-pages/app-harness.ts';

export { cookieHeader, formToken, unescapeHtml };

/** The tests' own session secret, so they can compute the keys the app hands out. */
export const SESSION_SECRET = 'shop-tests-session-secret-0123456789abcdef';

export interface ShopProducts { mug: string; sticker: string; tent: string; markup: string }

/** A customer who fills in every field correctly. */
export const ANN = Object.freeze({
  email: 'ann@example.com', name: 'Ann Buyer', line1: '1 High Street', line2: '', postal_code: 'LS1 1AA', city: 'Leeds', country: 'GB',
});

export interface Shop extends TestDatabase {
  app: FastifyInstance;
  config: Config;
  products: ShopProducts;
  gateway: GatewaySandboxClient;
  gatewayUrl: string;
  access: OrderAccess;
  /** GET with a cookie header, returning the response and the cookies after it. */
  get(url: string, cookie?: string): Promise<{ response: LightMyRequestResponse; cookie: string }>;
  /** POST a form with a CSRF token taken from `formPage` (fetched with the same cookies). */
  post(url: string, fields: Record<string, string>, options?: { cookie?: string; formPage?: string; csrf?: string }): Promise<{ response: LightMyRequestResponse; cookie: string }>;
  /** The shop's order form, posted with `quantities` (product id → typed quantity) and ANN's details unless overridden. */
  checkout(quantities: Record<string, string>, fields?: Record<string, string>, cookie?: string): Promise<{ response: LightMyRequestResponse; cookie: string }>;
  /** A placed order (through the form), with its number, id and checkout session. */
  placeOrder(quantities: Record<string, string>): Promise<{ number: string; orderId: string; sessionId: string; cookie: string; location: string }>;
  count(query: string, values?: unknown[]): Promise<number>;
}

/**
 * A fresh database with a few products, the payment sandbox listening on a
 * port of its own (spoken to over HTTP by the official stripe package), and
 * the app built on both, without a listener: requests are injected.
 */
export async function shop(t: Test, env: Record<string, string> = {}): Promise<Shop> {
  const database = await freshDatabase(t);
  const sandbox = await startGatewaySandbox({ webhookSecret: 'whsec_tanktop_dev_sandbox_secret' });
  t.teardown(() => sandbox.close());
  const config = loadConfig({
    STRIPE_API_BASE: sandbox.url, PUBLIC_URL: 'http://shop.test', SESSION_SECRET, LOGIN_ATTEMPTS_PER_MINUTE: '1000', ...env,
  });
  const app = await build(config, { pool: database.pool, db: database.db, log: testLog });
  t.teardown(() => app.close());

  const { rows } = await database.pool.query<{ id: string }>(
    `insert into products (name, price) values ('Mug', 12.50), ('Sticker', 7.99), ('Tent', 1234.5), ('<b>Bold</b> & "Co"', 1234567.89) returning id`);
  const products = { mug: rows[0]!.id, sticker: rows[1]!.id, tent: rows[2]!.id, markup: rows[3]!.id };

  async function get(url: string, cookie = '') {
    const response = await app.inject({ url, headers: cookie ? { cookie } : {} });
    return { response, cookie: cookieHeader(response, cookie) };
  }

  async function post(url: string, fields: Record<string, string>, options: { cookie?: string; formPage?: string; csrf?: string } = {}) {
    const page = await get(options.formPage ?? '/shop', options.cookie ?? '');
    const csrf = options.csrf ?? formToken(page.response.body);
    const response = await app.inject({
      method: 'POST', url, payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
      headers: { cookie: page.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    });
    return { response, cookie: cookieHeader(response, page.cookie) };
  }

  const harness: Shop = {
    ...database, app, config, products, get, post,
    gateway: gatewaySandboxClient(sandbox.url),
    gatewayUrl: sandbox.url,
    access: orderAccess(SESSION_SECRET),
    checkout(quantities, fields = {}, cookie = '') {
      const qty = Object.fromEntries(Object.entries(quantities).map(([id, quantity]) => [`qty_${id}`, quantity]));
      return post('/shop/checkout', { ...ANN, ...qty, ...fields }, { cookie });
    },
    async placeOrder(quantities) {
      const { response, cookie } = await harness.checkout(quantities);
      if (response.statusCode !== 303) throw new Error(`checkout answered ${response.statusCode}: ${response.body.slice(0, 500)}`);
      const { rows: [order] } = await database.pool.query<{ id: string; number: string; checkout_session_id: string }>(
        `select id, number, checkout_session_id from orders order by id desc limit 1`);
      return { number: order!.number, orderId: order!.id, sessionId: order!.checkout_session_id, cookie, location: response.headers.location as string };
    },
    async count(query, values = []) {
      const { rows: [row] } = await database.pool.query<{ n: string }>(`select count(*) as n from (${query}) as x`, values);
      return Number(row!.n);
    },
  };
  return harness;
}

/** The text of the page's alert, unescaped. */
export function problemOf(html: string): string | undefined {
  const match = /<p class="problem" role="alert"[^>]*>([^<]*)<\/p>/.exec(html);
  return match ? unescapeHtml(match[1]!) : undefined;
}
