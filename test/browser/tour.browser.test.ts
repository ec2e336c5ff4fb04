import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import t from 'tap';
import { hashPassword } from '../../src/auth/password.ts';
import { insertUser } from '../../src/auth/users.repository.ts';
import { freshDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/free-port.ts';
import { spawnService, waitFor } from '../helpers/server-process.ts';

/**
 * The README's guided tour, walked in a browser against `src/server.ts` as
 * `make start` runs it (demo data, every sandbox, the worker process), with a
 * screenshot of each stop. `npm run screenshots` writes them to
 * docs/screenshots/ (committed, linked from the README); an ordinary test run
 * writes them to test-artifacts/screenshots/, so `make test` leaves the
 * working tree as it was.
 */

const CHROMIUM = '/usr/bin/chromium';
const projectRoot = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.resolve(projectRoot, process.env.TANKTOP_SCREENSHOTS_DIR || 'test-artifacts/screenshots');
const PASSWORD = 'correct horse battery';

/** Every PNG this test writes, by the name the README uses. */
export const TOUR_SCREENSHOTS = [
  'overview.png', 'stats-agents.png', 'stats-agent.png', 'shop.png', 'payment.png', 'order.png',
  'mailbox.png', 'supplier.png', 'alerts.png', 'ops.png',
] as const;

/** The top of the page, as someone arriving sees it (filling a form scrolls it). */
async function shoot(page: Page, name: (typeof TOUR_SCREENSHOTS)[number]): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(SHOTS, name) });
}

t.test('the tour of make start: stats pages, a paid order, the mailbox, the supplier, an alert and the operations page', {
  skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium`,
}, async (t) => {
  const { url: databaseUrl, pool } = await freshDatabase(t);
  await insertUser(pool, 'manager', await hashPassword(PASSWORD));
  const port = await freePort();
  const service = spawnService(t, {
    DATABASE_URL: databaseUrl, DEMO_SALES: '20000', PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: '', LOG_LEVEL: 'warn',
    GATEWAY_SANDBOX_PORT: '0', MAIL_SANDBOX_SMTP_PORT: '0', MAIL_SANDBOX_HTTP_PORT: '0', ALERT_SANDBOX_PORT: '0', SUPPLIER_SANDBOX_PORT: '0',
    STRIPE_API_BASE: '', STRIPE_SECRET_KEY: '', SMTP_URL: '', ALERT_WEBHOOK_URL: '', SUPPLIER_API_URL: '', DEV_SANDBOXES: '',
  });
  const { child, exited } = service;
  await waitFor('make start to print its URLs', async () => /supplier sandbox: /.test(service.stdout()) && /worker: +pid/.test(service.stdout()), 120_000)
    .catch((error: Error) => { throw new Error(`${error.message}; stdout: ${service.stdout()}; stderr: ${service.stderr()}`); });
  const printed = (label: string) => new RegExp(`${label}: +(http://\\S+)`).exec(service.stdout())?.[1];
  const base = /Tanktop is running at (http:\/\/\S+)/.exec(service.stdout())?.[1];
  const [shop, mailbox, gateway, alerts, supplier] = ['shop', 'mailbox', 'payment sandbox', 'alerts', 'supplier sandbox'].map(printed);
  t.ok(base && shop && mailbox && gateway && alerts && supplier, 'make start prints every address of the tour');

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await mkdir(SHOTS, { recursive: true });

  // 1. The stats pages.
  await page.goto(`${base}/`);
  await page.fill('input[name=name]', 'manager');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/`);
  t.ok(await page.$('figure.chart svg'), 'the overview with its chart');
  await shoot(page, 'overview.png');
  await page.goto(`${base}/stats/agents`);
  t.ok(await page.$('table.stats tbody tr[data-day]'), 'the agents table');
  await shoot(page, 'stats-agents.png');
  await page.click('table.stats tbody tr[data-day] a');
  await page.waitForURL(/\/stats\/agents\/\d+/);
  await shoot(page, 'stats-agent.png');

  // 2. The shop and a payment on the gateway sandbox.
  const order = async (email: string, name: string, shot: boolean) => {
    await page.goto(shop!);
    const quantities = await page.$$('input[type=number][name^=qty_]');
    await quantities[0]!.fill('2');
    await quantities[2]!.fill('1');
    await page.fill('input[name=email]', email);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=line1]', '1 High Street');
    await page.fill('input[name=postal_code]', 'LS1 1AA');
    await page.fill('input[name=city]', 'Leeds');
    await page.fill('input[name=country]', 'GB');
    if (shot) await shoot(page, 'shop.png');
    await page.click('button:text("Go to payment")');
    await page.waitForURL(`${gateway}/pay/**`);
    if (shot) await shoot(page, 'payment.png');
    await page.click('button.pay');
    await page.waitForURL(/\/shop\/orders\/TT-/);
    return /\/shop\/orders\/(TT-[A-Z0-9-]+)/.exec(page.url())![1]!;
  };
  const first = await order('ann@example.com', 'Ann Buyer', true);
  await waitFor('the invoice on the order page', async () => {
    await page.reload();
    return (await page.$('a[href*="invoice.pdf"]')) !== null;
  });
  t.pass(`order ${first} paid and invoiced`);
  await shoot(page, 'order.png');

  // 3. The mailbox.
  await waitFor('the invoice e-mail', async () => {
    const messages = await (await fetch(new URL('/api/messages', mailbox))).json() as unknown[];
    return messages.length > 0;
  });
  await page.goto(mailbox!);
  await shoot(page, 'mailbox.png');

  // 4. The supplier sandbox.
  await waitFor('the order at the supplier', async () => {
    const { data } = await (await fetch(new URL('/_sandbox/orders', supplier))).json() as { data: unknown[] };
    return data.length > 0;
  });
  await page.goto(supplier!);
  await shoot(page, 'supplier.png');

  // 5. An alert: the supplier refuses the next order.
  const refused = await fetch(new URL('/_sandbox/faults', supplier), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reject: { count: 1, code: 'out_of_stock' } }),
  });
  t.equal(refused.status, 200, 'the supplier will refuse the next order');
  const second = await order('bob@example.com', 'Bob Buyer', false);
  await waitFor('the alert in the chat channel', async () => {
    const messages = await (await fetch(new URL('/api/messages', alerts))).json() as unknown[];
    return messages.length > 0;
  }).catch(async (error: Error) => {
    const { rows } = await pool.query(`select o.number, o.payment_state, o.fulfilment_state, s.rejection_code, s.submitted_at, a.status as alert, a.last_error
      from orders o left join supplier_orders s on s.order_id = o.id left join alerts a on a.order_id = o.id`);
    throw new Error(`${error.message}: ${JSON.stringify(rows)}; stderr: ${service.stderr().slice(-3000)}`);
  });
  t.pass(`order ${second} refused by the supplier: an alert`);
  await page.goto(alerts!);
  await shoot(page, 'alerts.png');

  // 6. The operations page.
  await page.goto(`${base}/ops/orders`);
  t.match(await page.textContent('body'), second, 'the operations page lists the orders');
  await shoot(page, 'ops.png');

  child.kill('SIGINT');
  t.equal(await exited, 0, 'Ctrl-C stops it all');
});
