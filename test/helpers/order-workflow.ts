import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type Stripe from 'stripe';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../src/config.ts';
import { createMailer } from '../../src/email/mailer.ts';
import { build } from '../../src/http/app.ts';
import { startWorkers } from '../../src/jobs/start-workers.ts';
import { createCheckout, type CheckoutDeps } from '../../src/orders/checkout.service.ts';
import type { CheckoutRequest } from '../../src/orders/checkout-request.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { gatewaySandboxClient, type GatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox } from '../../src/sandboxes/gateway/gateway-sandbox.ts';
import { startMailSandbox } from '../../src/sandboxes/mail/mail-sandbox.ts';
import { freshDatabase, testLog, type TestDatabase } from './database.ts';
import { startTestBoss } from './job-queue.ts';
import { makeProducts } from './order-fixtures.ts';

/** A message as the mail sandbox's JSON API lists it. */
export interface ReceivedMail {
  id: string;
  to: string[];
  subject: string;
  text: string | null;
  attachments: { filename: string; contentType: string; size: number; sha256: string }[];
}

export interface Workflow extends TestDatabase {
  config: Config;
  boss: PgBoss;
  stripe: Stripe;
  app: FastifyInstance;
  gateway: GatewaySandboxClient;
  gatewayUrl: string;
  mailUrl: string;
  smtpUrl: string;
  products: Awaited<ReturnType<typeof makeProducts>>;
  checkoutDeps: CheckoutDeps;
  /** A checkout by a new customer (ann+<n>@example.com unless given). */
  checkout(items: CheckoutRequest['items'], customer?: Partial<{ email: string; name: string }>, referralCode?: string): ReturnType<typeof createCheckout>;
  sessionOf(orderId: string): Promise<string>;
  startWorkers(): Promise<{ stop(): Promise<void> }>;
  messages(): Promise<ReceivedMail[]>;
}

let customers = 0;

/**
 * The whole workflow over real connections: a fresh database, the app
 * listening on a port (the gateway sandbox posts its webhooks there), the
 * gateway sandbox spoken to by the official stripe SDK, the mail sandbox over
 * SMTP, and pg-boss. Workers are started by the test (in-process, or as a
 * child process).
 */
export async function workflow(t: Test, options: { workers?: boolean; enabledEvents?: readonly string[] } = {}): Promise<Workflow> {
  const database = await freshDatabase(t, { poolSize: 10 });
  const mail = await startMailSandbox();
  t.teardown(() => mail.close());
  const boss = await startTestBoss(t, database.url);

  const baseConfig = loadConfig({ SMTP_URL: mail.smtpUrl, ORDER_RECONCILE_AFTER_MINUTES: '1' });
  const app = await build(baseConfig, { pool: database.pool, db: database.db, log: testLog, boss });
  // A user exists, so the app does not print its first-user hint when it listens.
  await database.pool.query(`insert into users (name, password_hash) values ('ann', 'scrypt$unused')`);
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());

  const sandbox = await startGatewaySandbox({
    webhookUrl: `${appUrl}/webhooks/stripe`, webhookSecret: baseConfig.stripe.webhookSecret, webhookRetryDelaysMs: [200, 500, 1000, 2000],
    // Every event type unless the test says otherwise: the duplicates a wide subscription brings are part of what is tested.
    enabledEvents: options.enabledEvents ?? ['*'],
  });
  t.teardown(() => sandbox.close());
  const config = loadConfig({ SMTP_URL: mail.smtpUrl, STRIPE_API_BASE: sandbox.url, ORDER_RECONCILE_AFTER_MINUTES: '1', PUBLIC_URL: 'http://shop.test' });
  const stripe = createStripeClient(config.stripe);
  const products = await makeProducts(database.pool);
  const checkoutDeps: CheckoutDeps = { db: database.db, stripe, config, log: testLog };

  const harness: Workflow = {
    ...database, config, boss, stripe, app, products, checkoutDeps,
    gateway: gatewaySandboxClient(sandbox.url),
    gatewayUrl: sandbox.url, mailUrl: mail.httpUrl, smtpUrl: mail.smtpUrl,
    checkout(items, customer = {}, referralCode) {
      customers += 1;
      return createCheckout(checkoutDeps, {
        items,
        customer: {
          email: customer.email ?? `ann+${process.pid}-${customers}@example.com`, name: customer.name ?? 'Ann Buyer',
          address: { line1: '1 High Street', postalCode: 'LS1 1AA', city: 'Leeds', country: 'GB' },
        },
        referralCode,
      });
    },
    async sessionOf(orderId) {
      const { rows } = await database.pool.query<{ checkout_session_id: string }>(`select checkout_session_id from orders where id = $1`, [orderId]);
      return rows[0]!.checkout_session_id;
    },
    async startWorkers() {
      const mailer = createMailer(mail.smtpUrl, { from: config.mail.from });
      const workers = await startWorkers({ boss, db: database.db, stripe, config, log: testLog, mailer, pollingIntervalSeconds: 0.5, schedule: false });
      t.teardown(async () => {
        await workers.stop();
        await mailer.close();
      });
      return workers;
    },
    async messages() {
      const response = await fetch(`${mail.httpUrl}/api/messages`);
      return await response.json() as ReceivedMail[];
    },
  };
  if (options.workers ?? true) await harness.startWorkers();
  return harness;
}

/** Polls until `check` returns a truthy value (which it returns), or fails after timeoutMs saying what it waited for. */
export async function waitFor<T>(what: string, check: () => Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A count(*) as a number. */
export async function countRows(database: TestDatabase, query: string, values: unknown[] = []): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(`select count(*) as n from (${query}) as x`, values);
  return Number(rows[0]!.n);
}
