import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { planDevSandboxes } from '../../src/dev-sandboxes.ts';
import { gatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { freshDatabase } from '../helpers/database.ts';
import { cookieJar, waitFor } from '../helpers/server-process.ts';
import { unescapeHtml } from '../stats-pages/app-harness.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

t.test('the sandboxes start only where no real gateway or SMTP server is configured', async (t) => {
  t.match(planDevSandboxes({}), {
    gateway: { host: '127.0.0.1', port: 12111, portFromEnv: false },
    mail: { host: '127.0.0.1', smtpPort: 2525, httpPort: 8025, portsFromEnv: false },
  }, 'nothing configured: both, on the usual ports');
  t.match(planDevSandboxes({ GATEWAY_SANDBOX_PORT: '4000', MAIL_SANDBOX_SMTP_PORT: '0', MAIL_SANDBOX_HTTP_PORT: '4001' }), {
    gateway: { port: 4000, portFromEnv: true }, mail: { smtpPort: 0, httpPort: 4001, portsFromEnv: true },
  }, 'ports from the environment');
  t.match(planDevSandboxes({ STRIPE_SECRET_KEY: 'sk_test_tanktop_sandbox' }), { gateway: { port: 12111 } }, 'the sandbox key is the sandbox');
  t.equal(planDevSandboxes({ STRIPE_SECRET_KEY: 'sk_test_51RealAccountKey' }).gateway, null, 'a real test key talks to Stripe');
  t.equal(planDevSandboxes({ STRIPE_API_BASE: 'http://127.0.0.1:4242' }).gateway, null, 'an API base is used as it is');
  t.equal(planDevSandboxes({ SMTP_URL: 'smtp://mail.example.com:587' }).mail, null, 'an SMTP server is used as it is');
  t.same(planDevSandboxes({ DEV_SANDBOXES: 'off' }), { gateway: null, mail: null }, 'DEV_SANDBOXES=off starts none');
  t.throws(() => planDevSandboxes({ DEV_SANDBOXES: 'yes' }), { message: 'DEV_SANDBOXES must be auto or off, not "yes"' });
  t.throws(() => planDevSandboxes({ GATEWAY_SANDBOX_PORT: '70000' }), { message: 'GATEWAY_SANDBOX_PORT must be a whole number from 0 to 65535, not "70000"' });
});

t.test('make start serves the shop with both sandboxes and a worker process: an order is paid, invoiced and mailed; Ctrl-C stops it all', async (t) => {
  const { url: databaseUrl, pool } = await freshDatabase(t);
  await pool.query(`insert into products (name, price) values ('Mug', 12.50)`);
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/server.ts')], {
    cwd: projectRoot,
    env: {
      ...process.env, DATABASE_URL: databaseUrl, DEMO_SALES: '0', PORT: '0', LOG_LEVEL: 'info',
      GATEWAY_SANDBOX_PORT: '0', MAIL_SANDBOX_SMTP_PORT: '0', MAIL_SANDBOX_HTTP_PORT: '0',
      STRIPE_API_BASE: '', STRIPE_SECRET_KEY: '', SMTP_URL: '', DEV_SANDBOXES: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor('the URLs and the worker', async () => /worker is running/.test(stdout) && /payment sandbox: /.test(stdout), 60_000)
    .catch((error: Error) => { throw new Error(`${error.message}; stdout: ${stdout}; stderr: ${stderr}`); });

  const shopUrl = /shop: +(http:\/\/\S+)/.exec(stdout)?.[1];
  const mailbox = /mailbox: +(http:\/\/\S+)/.exec(stdout)?.[1];
  const sandbox = /payment sandbox: +(http:\/\/\S+)/.exec(stdout)?.[1];
  t.ok(shopUrl && mailbox && sandbox, 'prints the shop, mailbox and payment sandbox URLs');
  const worker = Number(/worker: +pid (\d+)/.exec(stdout)?.[1]);
  t.ok(worker > 0, 'and the worker\'s process id');
  const gateway = gatewaySandboxClient(sandbox!);
  const base = shopUrl!.replace(/\/shop$/, '');
  t.equal((await gateway.settings()).webhookUrl, `${base}/webhooks/stripe`, 'the gateway posts its events to the app');

  const cookies = cookieJar();
  const page = await fetch(shopUrl!);
  cookies.take(page);
  const html = await page.text();
  const csrf = unescapeHtml(/name="_csrf" value="([^"]+)"/.exec(html)![1]!);
  const productId = /name="qty_(\d+)"/.exec(html)![1]!;
  const checkout = await fetch(`${base}/shop/checkout`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      _csrf: csrf, [`qty_${productId}`]: '2', email: 'ann@example.com', name: 'Ann Buyer', line1: '1 High Street',
      postal_code: 'LS1 1AA', city: 'Leeds', country: 'GB',
    }),
  });
  t.equal(checkout.status, 303);
  t.match(checkout.headers.get('location'), `${sandbox}/pay/`, 'to the sandbox\'s payment page');
  const { rows: [order] } = await pool.query(`select id, number, checkout_session_id from orders`);
  await gateway.pay(order.checkout_session_id);

  await waitFor('the order to be paid and its invoice rendered by the worker process', async () =>
    (await pool.query(`select from orders o join invoices i on i.order_id = o.id join invoice_documents d on d.invoice_id = i.id
                       where o.payment_state = 'paid'`)).rowCount === 1);
  const mail = await waitFor('the invoice e-mail in the mailbox', async () => {
    const messages = await (await fetch(`${mailbox}/api/messages`)).json() as { to: string[]; subject: string }[];
    return messages.length > 0 && messages;
  });
  t.match(mail, [{ to: ['ann@example.com'] }], 'the invoice was mailed to the mail sandbox');
  t.equal((await pool.query(`select count(*)::int as n from sales`)).rows[0].n, 2, 'the sales rows the rollups count');

  child.kill('SIGINT');
  t.equal(await exited, 0, 'exits cleanly');
  t.match(stderr, /"msg":"shutting down"[\s\S]*"msg":"stopped"/);
  t.notMatch(stderr, 'the worker process stopped', 'the worker was stopped, not lost');
  t.throws(() => process.kill(worker, 0), { code: 'ESRCH' }, 'the worker process is gone');
  await t.rejects(fetch(sandbox!), 'the payment sandbox is closed');
  await t.rejects(fetch(mailbox!), 'the mailbox is closed');
});

t.test('a service killed with SIGKILL does not leave its worker process running', async (t) => {
  const { url: databaseUrl } = await freshDatabase(t);
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/server.ts')], {
    cwd: projectRoot,
    env: {
      ...process.env, DATABASE_URL: databaseUrl, DEMO_SALES: '0', PORT: '0', LOG_LEVEL: 'warn',
      GATEWAY_SANDBOX_PORT: '0', MAIL_SANDBOX_SMTP_PORT: '0', MAIL_SANDBOX_HTTP_PORT: '0',
      STRIPE_API_BASE: '', STRIPE_SECRET_KEY: '', SMTP_URL: '', DEV_SANDBOXES: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitFor('the worker', async () => /worker: +pid (\d+)/.test(stdout) && /worker is running/.test(stdout), 60_000);
  const worker = Number(/worker: +pid (\d+)/.exec(stdout)![1]);
  t.teardown(() => {
    try { process.kill(worker, 'SIGKILL'); } catch { /* already gone */ }
  });

  child.kill('SIGKILL');
  await exited;
  await waitFor('the orphaned worker to stop', async () => {
    try {
      process.kill(worker, 0);
      return false;
    } catch {
      return true;
    }
  }, 45_000);
  t.pass('the worker stopped when its service died');
});
