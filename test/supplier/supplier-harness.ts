import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type Stripe from 'stripe';
import type { Test } from 'tap';
import { loadConfig, type Config } from '../../src/config.ts';
import { createMailer } from '../../src/email/mailer.ts';
import { build } from '../../src/http/app.ts';
import { startWorkers } from '../../src/jobs/start-workers.ts';
import { createCheckout } from '../../src/orders/checkout.service.ts';
import type { CheckoutRequest } from '../../src/orders/checkout-request.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { startAlertSandbox } from '../../src/sandboxes/alerts/alert-sandbox.ts';
import { gatewaySandboxClient, type GatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox } from '../../src/sandboxes/gateway/gateway-sandbox.ts';
import { startMailSandbox } from '../../src/sandboxes/mail/mail-sandbox.ts';
import { supplierSandboxClient, type ApiRequestRecord, type SupplierSandboxClient } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { startSupplierSandbox, type SupplierSandboxOptions } from '../../src/sandboxes/supplier/supplier-sandbox.ts';
import { freshDatabase, testLog, type TestDatabase } from '../helpers/database.ts';
import { startTestBoss } from '../helpers/job-queue.ts';
import { makeProducts } from '../helpers/order-fixtures.ts';
import { waitFor, type ReceivedMail } from '../helpers/order-workflow.ts';

export { waitFor };

export const SUPPLIER_TOKEN = 'test-supplier-token';
export const SUPPLIER_SECRET = 'test_supplier_webhook_secret';
/** Long enough that an order stays where a test put it (tests move orders with the control API). */
export const STILL = Object.freeze({ production: 600_000, shipping: 600_000, delivery: 600_000 });

export interface AlertRow {
  incident_key: string;
  severity: string;
  title: string;
  text: string;
  order_id: string | null;
  occurrences: number;
  status: string;
}

export interface SupplierFlow extends TestDatabase {
  config: Config;
  boss: PgBoss;
  stripe: Stripe;
  app: FastifyInstance;
  appUrl: string;
  gateway: GatewaySandboxClient;
  gatewayUrl: string;
  supplier: SupplierSandboxClient;
  supplierUrl: string;
  alertUrl: string;
  mailUrl: string;
  smtpUrl: string;
  products: Awaited<ReturnType<typeof makeProducts>>;
  /** The environment of a worker process for this flow (`node src/worker.ts`). */
  workerEnv: Record<string, string>;
  /** Checkout, payment at the gateway, and the payment applied: the order is paid (its submit job is queued). */
  paidOrder(items: CheckoutRequest['items']): Promise<{ orderId: string; number: string }>;
  startWorkers(): Promise<{ stop(): Promise<void> }>;
  mail(): Promise<ReceivedMail[]>;
  /** Mail to the order's customer, oldest first. */
  mailTo(orderId: string): Promise<ReceivedMail[]>;
  /** The supplier's API calls, oldest first. */
  supplierCalls(filter?: Partial<Pick<ApiRequestRecord, 'method' | 'externalId'>>): Promise<ApiRequestRecord[]>;
  /** POST /v1/orders calls for an order (by its external id, the order number). */
  supplierPosts(number: string): Promise<ApiRequestRecord[]>;
  fulfilment(orderId: string): Promise<string>;
  payment(orderId: string): Promise<string>;
  waitForFulfilment(orderId: string, state: string, timeoutMs?: number): Promise<void>;
  waitForPayment(orderId: string, state: string, timeoutMs?: number): Promise<void>;
  alerts(): Promise<AlertRow[]>;
  /** No supplier webhook for the order in flight, and every one delivered stored and processed. */
  eventsSettled(number: string): Promise<boolean>;
}

export interface FlowOptions {
  /** Start the workers in this process (default true). */
  workers?: boolean;
  supplier?: Partial<SupplierSandboxOptions>;
  /** More configuration (SUPPLIER_TIMEOUT_MS…). */
  env?: Record<string, string>;
}

let customers = 0;

/**
 * The order workflow with the supplier, over real connections: a fresh
 * database, the app listening (the gateway and the supplier sandbox post
 * their webhooks there), the gateway sandbox (Stripe's SDK), the supplier
 * sandbox (our client), the mail sandbox (SMTP), the alert sandbox (the
 * team's channel) and pg-boss. The supplier's orders stay where they are
 * until a test moves them (STILL), unless told otherwise.
 */
export async function supplierFlow(t: Test, options: FlowOptions = {}): Promise<SupplierFlow> {
  const database = await freshDatabase(t, { poolSize: 12 });
  const mail = await startMailSandbox();
  t.teardown(() => mail.close());
  const alertSandbox = await startAlertSandbox({ log: testLog });
  t.teardown(() => alertSandbox.close());
  const boss = await startTestBoss(t, database.url);
  const gatewaySandbox = await startGatewaySandbox({ webhookSecret: 'whsec_tanktop_dev_sandbox_secret', webhookRetryDelaysMs: [200, 500, 1000, 2000] });
  t.teardown(() => gatewaySandbox.close());
  const supplierSandbox = await startSupplierSandbox({
    apiToken: SUPPLIER_TOKEN, webhookSecret: SUPPLIER_SECRET, delaysMs: STILL, webhookRetryDelaysMs: [200, 500, 1000, 2000, 5000], log: testLog, ...options.supplier,
  });
  t.teardown(() => supplierSandbox.close());

  const env: Record<string, string> = {
    SMTP_URL: mail.smtpUrl,
    STRIPE_API_BASE: gatewaySandbox.url,
    PUBLIC_URL: 'http://shop.test',
    ORDER_RECONCILE_AFTER_MINUTES: '1',
    SUPPLIER_API_URL: `${supplierSandbox.url}/v1`,
    SUPPLIER_API_TOKEN: SUPPLIER_TOKEN,
    SUPPLIER_WEBHOOK_SECRET: SUPPLIER_SECRET,
    SUPPLIER_TIMEOUT_MS: '3000',
    ALERT_WEBHOOK_URL: alertSandbox.url,
    ...options.env,
  };
  const config = loadConfig(env);
  const app = await build(config, { pool: database.pool, db: database.db, log: testLog, boss });
  await database.pool.query(`insert into users (name, password_hash) values ('ann', 'scrypt$unused')`);
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    // A sandbox's webhook may be on its way in: its connection is not idle, and would hold close() for the keep-alive timeout.
    const closing = app.close();
    app.server.closeAllConnections();
    await closing;
  });
  const gateway = gatewaySandboxClient(gatewaySandbox.url);
  await gateway.configure({ webhookUrl: `${appUrl}/webhooks/stripe` });
  const supplier = supplierSandboxClient(supplierSandbox.url);
  await supplier.configure({ webhookUrl: options.supplier?.webhookUrl ?? `${appUrl}/webhooks/supplier` });

  const stripe = createStripeClient(config.stripe);
  const products = await makeProducts(database.pool);
  const state = async (column: 'fulfilment_state' | 'payment_state', orderId: string) =>
    (await database.pool.query<{ state: string }>(`select ${column} as state from orders where id = $1`, [orderId])).rows[0]!.state;

  const flow: SupplierFlow = {
    ...database, config, boss, stripe, app, appUrl, gateway, gatewayUrl: gatewaySandbox.url, supplier, supplierUrl: supplierSandbox.url,
    alertUrl: alertSandbox.url, mailUrl: mail.httpUrl, smtpUrl: mail.smtpUrl, products,
    workerEnv: { ...env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
    async paidOrder(items) {
      customers += 1;
      const { orderId, number } = await createCheckout({ db: database.db, stripe, config, log: testLog }, {
        items,
        customer: {
          email: `ann+${process.pid}-${customers}@example.com`, name: 'Ann Buyer',
          address: { line1: '1 High Street', postalCode: 'LS1 1AA', city: 'Leeds', country: 'GB' },
        },
      });
      const { rows } = await database.pool.query<{ checkout_session_id: string }>(`select checkout_session_id from orders where id = $1`, [orderId]);
      await gateway.pay(rows[0]!.checkout_session_id);
      try {
        // Paid at some point: a rejected order may be refunded before a look at its state would see `paid`.
        await waitFor('the order paid', async () => (await database.pool.query(`select paid_at from orders where id = $1`, [orderId])).rows[0].paid_at !== null);
      } catch (error) {
        // What the payment's webhooks came to, for the failure message.
        const { rows: events } = await database.pool.query(`select event_id, type, processed_at, outcome, processing_error from webhook_events where provider = 'stripe'`);
        const jobs = await boss.findJobs('stripe__process_event');
        const gatewayEvents = await gateway.events();
        throw new Error(`${(error as Error).message}: ${JSON.stringify({ events, jobs: jobs.map((j) => [j.state, j.retryCount, j.output]), gatewayEvents: gatewayEvents.map((e) => [e.type, e.outcome, e.attempts]) })}`);
      }
      return { orderId, number };
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
    async mail() {
      return await (await fetch(`${mail.httpUrl}/api/messages`)).json() as ReceivedMail[];
    },
    async mailTo(orderId) {
      const { rows } = await database.pool.query<{ email: string }>(`select customer_email as email from orders where id = $1`, [orderId]);
      const email = rows[0]!.email.toLowerCase();
      return (await flow.mail()).filter((message) => message.to.some((to) => to.toLowerCase() === email));
    },
    async supplierCalls(filter = {}) {
      return (await supplier.requests()).filter((call) => (!filter.method || call.method === filter.method) && (!filter.externalId || call.externalId === filter.externalId));
    },
    async supplierPosts(number) {
      return (await flow.supplierCalls({ method: 'POST', externalId: number })).filter((call) => call.path === '/v1/orders');
    },
    fulfilment: (orderId) => state('fulfilment_state', orderId),
    payment: (orderId) => state('payment_state', orderId),
    async waitForFulfilment(orderId, wanted, timeoutMs = 20_000) {
      await waitFor(`fulfilment ${wanted}`, async () => await state('fulfilment_state', orderId) === wanted, timeoutMs);
    },
    async waitForPayment(orderId, wanted, timeoutMs = 20_000) {
      await waitFor(`payment ${wanted}`, async () => await state('payment_state', orderId) === wanted, timeoutMs);
    },
    async alerts() {
      const { rows } = await database.pool.query<AlertRow>(`select incident_key, severity, title, text, order_id::text, occurrences, status from alerts order by id`);
      return rows;
    },
    async eventsSettled(number) {
      // Nothing still on its way from the supplier (a webhook in flight is not stored yet), and every
      // webhook it delivered stored and processed: "none waiting" alone holds before the first arrives.
      const sent = (await supplier.events()).filter((event) => event.externalId === number);
      if (sent.some((event) => event.outcome === 'pending')) return false;
      const delivered = sent.filter((event) => event.outcome === 'delivered').map((event) => event.id);
      const { rows } = await database.pool.query<{ waiting: string; processed: string }>(
        `select count(*) filter (where processed_at is null) as waiting,
                count(distinct event_id) filter (where processed_at is not null and event_id = any($2::text[])) as processed
         from webhook_events where provider = 'supplier' and payload -> 'data' -> 'order' ->> 'external_id' = $1`, [number, delivered]);
      return rows[0]!.waiting === '0' && Number(rows[0]!.processed) === new Set(delivered).size;
    },
  };
  if (options.workers ?? true) await flow.startWorkers();
  return flow;
}

/** A count(*) as a number. */
export async function countRows(database: TestDatabase, query: string, values: unknown[] = []): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(`select count(*) as n from (${query}) as x`, values);
  return Number(rows[0]!.n);
}

/** Lets whatever is still on its way arrive, before asserting that nothing more came. */
export function settle(ms = 1500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

const WORKER = path.resolve(import.meta.dirname, '../../src/worker.ts');

/** `node src/worker.ts` against the flow's database and sandboxes; resolves once it says it runs. */
export async function spawnWorker(t: Test, flow: SupplierFlow): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...flow.workerEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-20_000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('worker is running')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`the worker exited (${code}) before it ran: ${stderr}`)));
  });
  return { child, exited, stderr: () => stderr };
}
