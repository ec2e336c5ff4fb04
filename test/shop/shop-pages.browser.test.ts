import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { startWorkers } from '../../src/jobs/start-workers.ts';
import { createMailer } from '../../src/email/mailer.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { startGatewaySandbox } from '../../src/sandboxes/gateway/gateway-sandbox.ts';
import { startMailSandbox } from '../../src/sandboxes/mail/mail-sandbox.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { startTestBoss } from '../helpers/job-queue.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

/** A port free right now: the app's address must be known before it is built (the gateway sends shoppers back there). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('a customer orders, is declined, tries again, pays, and watches the order page update itself up to the invoice', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` }, async (t) => {
  const database = await freshDatabase(t, { poolSize: 8 });
  await database.pool.query(`insert into products (name, price) values ('Mug', 12.50), ('Tent', 1234.50)`);
  const boss = await startTestBoss(t, database.url);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const sandbox = await startGatewaySandbox({ webhookUrl: `${base}/webhooks/stripe`, webhookSecret: 'whsec_tanktop_dev_sandbox_secret', webhookRetryDelaysMs: [200, 500, 1000] });
  t.teardown(() => sandbox.close());
  const mailbox = await startMailSandbox({ smtpPort: 0, httpPort: 0 });
  t.teardown(() => mailbox.close());
  const config = loadConfig({ STRIPE_API_BASE: sandbox.url, PUBLIC_URL: base, SMTP_URL: mailbox.smtpUrl });
  const mailer = createMailer(mailbox.smtpUrl, { from: config.mail.from });
  t.teardown(() => mailer.close());
  const app = await build(config, { pool: database.pool, db: database.db, log: testLog, boss });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port });
  const workers = await startWorkers({ boss, db: database.db, stripe: createStripeClient(config.stripe), config, log: testLog, mailer, pollingIntervalSeconds: 0.5, schedule: false });
  t.teardown(() => workers.stop());

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await mkdir(ARTIFACTS, { recursive: true });

  await page.goto(`${base}/shop`);
  t.equal(await page.textContent('tr:has-text("Tent") [data-price]'), '1,234.50 EUR');
  await page.fill('tr:has-text("Mug") input[type=number]', '2');
  await page.fill('tr:has-text("Tent") input[type=number]', '1');
  await page.fill('input[name=email]', 'ann@example.com');
  await page.fill('input[name=name]', 'Ann Buyer');
  await page.fill('input[name=line1]', '1 High Street');
  await page.fill('input[name=postal_code]', 'LS1 1AA');
  await page.fill('input[name=city]', 'Leeds');
  await page.fill('input[name=country]', 'gb');
  await page.screenshot({ path: path.join(ARTIFACTS, 'shop.png'), fullPage: true });
  await page.click('button:text("Go to payment")');
  await page.waitForURL(`${sandbox.url}/pay/**`);
  t.pass('on the payment sandbox\'s page');

  await page.click('button.decline');
  await page.waitForSelector('text=Your card was declined');
  await page.click('a:text("Back to the shop")');
  await page.waitForURL(/\/shop\/orders\/TT-.*\?key=/);
  t.pass('the cancel address leads this browser to its order page');
  await page.waitForSelector('[data-payment-state="payment_failed"]', { timeout: 20_000 });
  t.match(await page.textContent('[data-failure]'), /declined/i, 'the page (refreshing itself) shows the decline');
  await page.screenshot({ path: path.join(ARTIFACTS, 'order-declined.png'), fullPage: true });

  await page.click('button:text("Try again")');
  await page.waitForURL(`${sandbox.url}/pay/**`);
  await page.click('button.pay');
  await page.waitForURL(/\/shop\/orders\/TT-.*\?key=/);
  t.pass('back from the payment on the order page');
  await page.waitForSelector('[data-payment-state="paid"]', { timeout: 20_000 });
  await page.waitForSelector('a:text("Download the PDF")', { timeout: 30_000 });
  t.pass('the page updated itself to paid, then to the invoice');
  t.equal(await page.$('meta[http-equiv=refresh]'), null, 'and stopped refreshing');
  t.equal(await page.textContent('[data-total]'), '1,259.50 EUR');
  await page.screenshot({ path: path.join(ARTIFACTS, 'order-paid.png'), fullPage: true });

  const pdf = await page.request.get(new URL(await page.getAttribute('a:text("Download the PDF")', 'href') ?? '', base).toString());
  t.equal(pdf.status(), 200);
  t.equal(pdf.headers()['content-type'], 'application/pdf');
  t.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');

  // The mailbox shows the invoice email, and its PDF attachment downloads.
  await page.goto(mailbox.httpUrl);
  const subject = page.locator('a', { hasText: 'INV-2026-' }).or(page.locator('a', { hasText: 'invoice' })).first();
  await subject.waitFor({ timeout: 30_000 }).catch(async () => {
    await page.reload();
    await subject.waitFor({ timeout: 30_000 });
  });
  await subject.click();
  await page.waitForSelector('a[download$=".pdf"]');
  await page.screenshot({ path: path.join(ARTIFACTS, 'mailbox-invoice.png'), fullPage: true });
  const attachment = await page.request.get(new URL(await page.getAttribute('a[download$=".pdf"]', 'href') ?? '', mailbox.httpUrl).toString());
  t.equal(attachment.status(), 200, 'the mailbox serves the attachment');
  t.equal((await attachment.body()).subarray(0, 5).toString(), '%PDF-', 'and it is the invoice PDF');
});
