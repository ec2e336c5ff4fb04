import Fastify, { type FastifyBaseLogger, type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Test } from 'tap';
import { installAuth } from '../../src/auth/auth.plugin.ts';
import { authRoutes } from '../../src/auth/auth.routes.ts';
import { hashPassword } from '../../src/auth/password.ts';
import { createSessionCache } from '../../src/auth/session-cache.ts';
import { insertUser } from '../../src/auth/users.repository.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { installErrorHandler } from '../../src/http/error-handler.ts';
import { installInputGuard } from '../../src/http/input.ts';
import { installViews } from '../../src/http/views.ts';
import { workQueue } from '../../src/jobs/work-queue.ts';
import { processStripeEventJob } from '../../src/orders/jobs/process-stripe-event.job.ts';
import type { OrderJobDeps } from '../../src/orders/jobs/order-jobs.deps.ts';
import { renderInvoicePdfJob } from '../../src/orders/jobs/render-invoice-pdf.job.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { recordCreated } from '../../src/orders/order-state-machine.ts';
import { applyPaymentSuccess } from '../../src/orders/payment.service.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { opsRoutes } from '../../src/ops/ops.routes.ts';
import { freshDatabase, testLog, type TestDatabase } from '../helpers/database.ts';
import { startTestBoss } from '../helpers/job-queue.ts';
import { insertOrder, makeProducts } from '../helpers/order-fixtures.ts';
import { waitFor } from '../helpers/order-workflow.ts';
import { cookieHeader, formToken, PASSWORD } from '../stats-pages/app-harness.ts';

export interface OpsHarness extends TestDatabase {
  app: FastifyInstance;
  boss: PgBoss;
  config: Config;
  products: Awaited<ReturnType<typeof makeProducts>>;
  /** Cookie header of ann's session (and the CSRF cookie). */
  cookie: string;
  get(url: string): Promise<LightMyRequestResponse>;
  /** A form post as ann; `csrf: false` leaves the token out. */
  post(url: string, fields?: Record<string, string>, options?: { csrf?: boolean; cookie?: string }): Promise<LightMyRequestResponse>;
  /** An order pending payment, with its first history rows. */
  order(overrides?: { paymentState?: string; quantity?: number }): Promise<string>;
  /** An order paid through the payment workflow's own code: payment, sales, invoice, invoice job. */
  paidOrder(): Promise<{ orderId: string; eventId: string }>;
  /** Works one queue with its real handler until `until` holds, then stops working it. */
  work(queue: 'stripe__process_event' | 'invoice__render_pdf', until: () => Promise<unknown>): Promise<void>;
}

let events = 0;

/**
 * A fresh database with pg-boss, the operations pages over sign-in and CSRF,
 * and "ann" signed in. The app is composed from the same parts as build()
 * (src/http/app.ts), with a job queue and a gateway nobody listens on. The
 * tests through build() itself are in ops-access.test.ts.
 */
export async function opsHarness(t: Test): Promise<OpsHarness> {
  const database = await freshDatabase(t, { poolSize: 8 });
  const boss = await startTestBoss(t, database.url);
  // A gateway nobody listens on: no test here may reach one.
  const config = loadConfig({ LOGIN_ATTEMPTS_PER_MINUTE: '1000', STRIPE_API_BASE: 'http://127.0.0.1:9', STRIPE_TIMEOUT_MS: '1000' });
  const app = Fastify({ loggerInstance: testLog as FastifyBaseLogger });
  installErrorHandler(app);
  installInputGuard(app);
  await installViews(app);
  const sessions = createSessionCache(database.pool);
  await installAuth(app, config, sessions, database.pool);
  await app.register(authRoutes, { pool: database.pool, config, sessions });
  await app.register(opsRoutes, { db: database.db, pool: database.pool, config, log: testLog, boss });
  t.teardown(() => app.close());

  await insertUser(database.pool, 'ann', await hashPassword(PASSWORD));
  const loginPage = await app.inject({ url: '/login' });
  let cookie = cookieHeader(loginPage);
  const signedIn = await app.inject({
    method: 'POST', url: '/login', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: formToken(loginPage.body), name: 'ann', password: PASSWORD, next: '/' }).toString(),
  });
  cookie = cookieHeader(signedIn, cookie);

  const products = await makeProducts(database.pool);
  const jobDeps: OrderJobDeps = { db: database.db, boss, stripe: createStripeClient(config.stripe), config };
  const handlers = { [Queues.processStripeEvent]: processStripeEventJob(jobDeps), [Queues.renderInvoicePdf]: renderInvoicePdfJob(jobDeps) };

  const harness: OpsHarness = {
    ...database, app, boss, config, products, cookie,
    get: (url) => app.inject({ url, headers: { cookie } }),
    async post(url, fields = {}, postOptions = {}) {
      const page = await app.inject({ url: '/ops/orders', headers: { cookie } });
      const form = postOptions.csrf === false ? fields : { _csrf: formToken(page.body), ...fields };
      return app.inject({
        method: 'POST', url, payload: new URLSearchParams(form).toString(),
        headers: { cookie: postOptions.cookie ?? cookieHeader(page, cookie), 'content-type': 'application/x-www-form-urlencoded' },
      });
    },
    async order(overrides = {}) {
      const orderId = await insertOrder(database.pool, { productId: products.mug, quantity: overrides.quantity ?? 2, paymentState: overrides.paymentState });
      await recordCreated(database.db, orderId, 'checkout');
      return orderId;
    },
    async paidOrder() {
      const orderId = await harness.order();
      const eventId = `evt_test_paid_${++events}`;
      const session = { id: `cs_test_${events}`, metadata: { order_id: orderId }, client_reference_id: orderId, payment_status: 'paid', payment_intent: `pi_test_${events}` };
      await database.pool.query(`insert into webhook_events (provider, event_id, type, payload, processed_at, outcome) values ('stripe', $1, 'checkout.session.completed', $2, now(), 'paid')`,
        [eventId, JSON.stringify({ id: eventId, type: 'checkout.session.completed', data: { object: session } })]);
      const { rows: [order] } = await database.pool.query<{ total: string }>(`select total::text from orders where id = $1`, [orderId]);
      await database.db.transaction().execute((trx) => applyPaymentSuccess(trx, { boss, orders: config.orders, log: testLog }, {
        orderId, providerPaymentId: session.payment_intent, paymentIntentId: session.payment_intent,
        amountMinor: Math.round(Number(order!.total) * 100), currency: 'eur', raw: session, source: eventId,
      }));
      return { orderId, eventId };
    },
    async work(queue, until) {
      const id = await workQueue(boss, queue, testLog, handlers[queue] as never, { pollingIntervalSeconds: 0.5 });
      try {
        await waitFor(`${queue} to get there`, until);
      } finally {
        await boss.offWork(queue, { id, wait: true });
      }
    },
  };
  return harness;
}

/** The flash or problem sentence of a page, and the redirect target of a 303. */
export function flashOf(html: string): string | undefined {
  return /<p class="flash" role="status">([^<]*)<\/p>/.exec(html)?.[1];
}

export function problemOf(html: string): string | undefined {
  return /<p class="problem" role="alert">([^<]*)<\/p>/.exec(html)?.[1];
}
