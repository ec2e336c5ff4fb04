import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Test } from 'tap';
import { hashPassword } from '../../src/auth/password.ts';
import { insertUser } from '../../src/auth/users.repository.ts';
import { gatewaySandboxClient, type GatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox } from '../../src/sandboxes/gateway/gateway-sandbox.ts';
import { startMailSandbox } from '../../src/sandboxes/mail/mail-sandbox.ts';
import { supplierSandboxClient, type SupplierSandboxClient } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { startSupplierSandbox } from '../../src/sandboxes/supplier/supplier-sandbox.ts';
import { SUBSCRIBED_EVENT_TYPES } from '../../src/orders/stripe-events.ts';
import { freshDatabase, type TestDatabase } from '../helpers/database.ts';
import type { ReceivedMail } from '../helpers/order-workflow.ts';
import { makeProducts } from '../helpers/order-fixtures.ts';
import { cookieJar } from '../helpers/server-process.ts';
import { unescapeHtml } from '../stats-pages/app-harness.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/** The production shape's secrets, identical in every process (never real ones). */
const SESSION_SECRET = 'test-only-session-secret-0123456789abcdef';
const STRIPE_WEBHOOK_SECRET = 'whsec_processes_test_secret';
const SUPPLIER_TOKEN = 'processes-test-supplier-token';
const SUPPLIER_WEBHOOK_SECRET = 'processes-test-supplier-webhook-secret';
export const PASSWORD = 'correct horse battery';

export interface RunningProcess {
  child: ChildProcess;
  /** Its exit code and signal, once it has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
  stdout(): string;
}

export interface WebProcess extends RunningProcess {
  url: string;
  /** What PGAPPNAME gave its pool's connections in pg_stat_activity. */
  applicationName: string;
}

export interface Fleet extends TestDatabase {
  gateway: GatewaySandboxClient;
  supplier: SupplierSandboxClient;
  mailUrl: string;
  /** `npm start` as a web process of the production shape: no sandboxes, no worker of its own, no demo data. */
  web(name: string, env?: Record<string, string>): Promise<WebProcess>;
  /** `npm run worker`, resolved once it says it runs. */
  worker(name: string, env?: Record<string, string>): Promise<RunningProcess>;
  /** Where the gateway sandbox posts its webhooks (one web process: it stands for the load balancer). */
  sendGatewayWebhooksTo(web: WebProcess): Promise<void>;
  sendSupplierWebhooksTo(web: WebProcess): Promise<void>;
  messages(): Promise<ReceivedMail[]>;
}

/**
 * Several web and worker processes on one database, as docs/deploy.md runs
 * them: real `src/server.ts` and `src/worker.ts` processes with
 * DEV_SANDBOXES=off, START_WORKER=false and real URLs, which here are the
 * gateway, mail and supplier sandboxes started by the test as servers of
 * their own. A user `ann` exists (so no process prints a setup link), and
 * the shop sells three products.
 */
export async function processFleet(t: Test, options: { supplierDelaysMs?: number } = {}): Promise<Fleet> {
  const database = await freshDatabase(t, { poolSize: 6 });
  await insertUser(database.pool, 'ann', await hashPassword(PASSWORD));
  await makeProducts(database.pool);
  const mail = await startMailSandbox();
  t.teardown(() => mail.close());
  const gateway = await startGatewaySandbox({
    webhookSecret: STRIPE_WEBHOOK_SECRET, webhookRetryDelaysMs: [200, 500, 1000, 2000], enabledEvents: SUBSCRIBED_EVENT_TYPES,
  });
  t.teardown(() => gateway.close());
  // Parked unless told otherwise: orders stay pending at the supplier, so the only e-mails are the invoices.
  const parked = options.supplierDelaysMs ?? 24 * 3600_000;
  const supplier = await startSupplierSandbox({
    apiToken: SUPPLIER_TOKEN, webhookSecret: SUPPLIER_WEBHOOK_SECRET,
    delaysMs: { production: parked, shipping: parked, delivery: parked }, webhookRetryDelaysMs: [200, 500, 1000, 2000],
  });
  t.teardown(() => supplier.close());

  const shared: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: database.url, DEV_SANDBOXES: 'off', START_WORKER: 'false', DEMO_SALES: '0',
    SESSION_SECRET, PUBLIC_URL: 'http://shop.test',
    STRIPE_API_BASE: gateway.url, STRIPE_WEBHOOK_SECRET, SMTP_URL: mail.smtpUrl,
    SUPPLIER_API_URL: `${supplier.url}/v1`, SUPPLIER_API_TOKEN: SUPPLIER_TOKEN, SUPPLIER_WEBHOOK_SECRET,
    // Nothing listens there: an alert would be retried, and none is expected.
    ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hooks/tanktop',
    LOG_LEVEL: 'warn',
  };

  const spawnProcess = (t: Test, script: string, env: Record<string, string>): RunningProcess => {
    const child = spawn(process.execPath, [path.join(projectRoot, script)], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => { stdout = (stdout + chunk.toString()).slice(-50_000); });
    child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-50_000); });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    t.teardown(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    });
    return { child, exited, stdout: () => stdout, stderr: () => stderr };
  };

  const started = async <P extends RunningProcess>(proc: P, ready: RegExp, what: string): Promise<RegExpExecArray> => {
    // Generous: on a loaded 2-core CI machine a start (type stripping, imports, migrate) has taken minutes (a web process needs about 4 s of CPU to start).
    const deadline = Date.now() + 240_000;
    let exitedEarly = false;
    void proc.exited.then(() => { exitedEarly = true; });
    for (;;) {
      const match = ready.exec(proc.stdout());
      if (match) return match;
      if (exitedEarly || Date.now() > deadline) throw new Error(`${what} did not start (${exitedEarly ? "exited" : "timed out"}); stdout: ${proc.stdout()}; stderr: ${proc.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  return {
    ...database,
    gateway: gatewaySandboxClient(gateway.url),
    supplier: supplierSandboxClient(supplier.url),
    mailUrl: mail.httpUrl,
    async web(name, env = {}) {
      const applicationName = `tanktop-test-${name}`;
      const proc = spawnProcess(t, 'src/server.ts', { ...shared, PORT: '0', PGAPPNAME: applicationName, ...env });
      // The start-up block ends with a blank line.
      const match = await started(proc, /Tanktop is running at (http:\/\/\S+)[\s\S]*\n\n/, `web process ${name}`);
      return { ...proc, url: match[1]!, applicationName };
    },
    async worker(name, env = {}) {
      const proc = spawnProcess(t, 'src/worker.ts', { ...shared, PGAPPNAME: `tanktop-test-${name}`, ...env });
      await started(proc, /worker is running/, `worker ${name}`);
      return proc;
    },
    async sendGatewayWebhooksTo(web) {
      await gatewaySandboxClient(gateway.url).configure({ webhookUrl: `${web.url}/webhooks/stripe` });
    },
    async sendSupplierWebhooksTo(web) {
      await supplierSandboxClient(supplier.url).configure({ webhookUrl: `${web.url}/webhooks/supplier` });
    },
    async messages() {
      return await (await fetch(`${mail.httpUrl}/api/messages`)).json() as ReceivedMail[];
    },
  };
}

/** A browser's side of one web process after another: a cookie jar and the forms' CSRF tokens. */
export function browser() {
  const cookies = cookieJar();
  const request = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { redirect: 'manual', ...init, headers: { cookie: cookies.header(), ...init.headers } });
    cookies.take(response);
    return response;
  };
  /** GETs a page with a form and POSTs the form's fields with its CSRF token. */
  const submit = async (formPage: string, action: string, fields: Record<string, string>) => {
    const page = await request(formPage);
    const token = unescapeHtml(/name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!);
    return request(action, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, ...fields }),
    });
  };
  return {
    cookies, request, submit,
    async signIn(base: string) {
      const response = await submit(`${base}/login`, `${base}/login`, { name: 'ann', password: PASSWORD, next: '/' });
      await response.arrayBuffer();
      if (response.status !== 303) throw new Error(`sign-in answered ${response.status}`);
    },
    /** The status a signed-in API answers this browser (200 signed in, 401 not). */
    async apiStatus(base: string): Promise<number> {
      const response = await request(`${base}/api/stats/agents`);
      await response.arrayBuffer();
      return response.status;
    },
  };
}

/** A checkout on the shop of `base` by a new customer; returns the order's id once the gateway session exists. */
export async function checkoutOn(database: TestDatabase, base: string, email: string, quantity: number): Promise<{ orderId: string; sessionId: string }> {
  const shopper = browser();
  const shop = await shopper.request(`${base}/shop`);
  const html = await shop.text();
  const productField = /name="(qty_\d+)"/.exec(html)![1]!;
  const token = unescapeHtml(/name="_csrf" value="([^"]+)"/.exec(html)![1]!);
  const response = await shopper.request(`${base}/shop/checkout`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      _csrf: token, [productField]: String(quantity),
      email, name: 'Ann Buyer', line1: '1 High Street', postal_code: 'LS1 1AA', city: 'Leeds', country: 'GB',
    }),
  });
  await response.arrayBuffer();
  if (response.status !== 303) throw new Error(`checkout on ${base} answered ${response.status}`);
  const { rows } = await database.pool.query<{ id: string; checkout_session_id: string }>(
    `select id, checkout_session_id from orders where customer_email = $1`, [email]);
  return { orderId: rows[0]!.id, sessionId: rows[0]!.checkout_session_id };
}
