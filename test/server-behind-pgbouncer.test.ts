import t, { type Test } from 'tap';
import { hashPassword } from '../src/auth/password.ts';
import { insertUser } from '../src/auth/users.repository.ts';
import { gatewaySandboxClient } from '../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { freshDatabase, type TestDatabase } from './helpers/database.ts';
import { pgbouncerMissing, startPgBouncer, type PgBouncer } from './helpers/pgbouncer.ts';
import { runCli } from './helpers/run-command.ts';
import { cookieJar, spawnService, waitFor, type ServiceProcess } from './helpers/server-process.ts';
import { unescapeHtml } from './stats-pages/app-harness.ts';

const skip = pgbouncerMissing();
const PASSWORD = 'correct horse battery';

/** `make start` (src/server.ts, which starts the sandboxes and the worker process) on DATABASE_URL, as an operator would. */
function startService(t: Test, databaseUrl: string, env: Record<string, string>): ServiceProcess {
  return spawnService(t, {
    DATABASE_URL: databaseUrl, DEMO_SALES: '500', PORT: '0', LOG_LEVEL: 'info',
    GATEWAY_SANDBOX_PORT: '0', MAIL_SANDBOX_SMTP_PORT: '0', MAIL_SANDBOX_HTTP_PORT: '0', ALERT_SANDBOX_PORT: '0', SUPPLIER_SANDBOX_PORT: '0',
    STRIPE_API_BASE: '', STRIPE_SECRET_KEY: '', SMTP_URL: '', DEV_SANDBOXES: '', ALERT_WEBHOOK_URL: '', SUPPLIER_API_URL: '',
    ...env,
  });
}

async function behindPgBouncer(t: Test): Promise<{ database: TestDatabase; bouncer: PgBouncer; through: string }> {
  const database = await freshDatabase(t);
  // Three server connections for the service's pool, its pg-boss, the worker's pool and pg-boss, the fold and the CLIs: shared for real.
  const bouncer = await startPgBouncer(t, { serverUrl: database.adminUrl, poolMode: 'transaction', poolSize: 3 });
  return { database, bouncer, through: bouncer.url(database.name) };
}

t.test('behind PgBouncer in transaction mode (DATABASE_POOLING=transaction): pages, the fold, the worker and the CLIs all work', { skip }, async (t) => {
  const { database: { pool }, bouncer, through } = await behindPgBouncer(t);
  await insertUser(pool, 'ann', await hashPassword(PASSWORD));
  const service = startService(t, through, { DATABASE_POOLING: 'transaction' });
  await waitFor('the URLs and the worker', async () => /worker is running/.test(service.stdout()) && /payment sandbox: /.test(service.stdout()), 90_000)
    .catch((error: Error) => { throw new Error(`${error.message}; stdout: ${service.stdout()}; stderr: ${service.stderr()}; pgbouncer: ${bouncer.log()}`); });
  const shopUrl = /shop: +(http:\/\/\S+)/.exec(service.stdout())![1]!;
  const mailbox = /mailbox: +(http:\/\/\S+)/.exec(service.stdout())![1]!;
  const sandbox = /payment sandbox: +(http:\/\/\S+)/.exec(service.stdout())![1]!;
  const base = shopUrl.replace(/\/shop$/, '');
  t.equal((await pool.query(`select count(*)::int as n from sales`)).rows[0].n, 500, 'the demo data set was loaded through the pooler');

  // Sign in, then fifty page requests at once (the issue: 2 of 50 answered 200).
  const cookies = cookieJar();
  const login = await fetch(`${base}/login`);
  cookies.take(login);
  const csrf = unescapeHtml(/name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!);
  const signedIn = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual', headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, name: 'ann', password: PASSWORD, next: '/' }),
  });
  t.equal(signedIn.status, 303, 'signed in');
  cookies.take(signedIn);
  const pages = ['/', '/stats/agents', '/stats/products', '/stats/customers', '/api/stats/agents', '/stats/products.csv'];
  const statuses = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const response = await fetch(`${base}${pages[i % pages.length]}`, { headers: { cookie: cookies.header() } });
    await response.arrayBuffer();
    return response.status;
  }));
  t.same(statuses.filter((status) => status !== 200), [], '50 of 50 stats requests answered 200');

  // An order: checkout on the shop, paid at the gateway sandbox, its webhook to the service, the worker's jobs, the e-mail.
  const shop = await fetch(shopUrl, { headers: { cookie: cookies.header() } });
  cookies.take(shop);
  const html = await shop.text();
  const checkout = await fetch(`${base}/shop/checkout`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: cookies.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      _csrf: unescapeHtml(/name="_csrf" value="([^"]+)"/.exec(html)![1]!), [`qty_${/name="qty_(\d+)"/.exec(html)![1]!}`]: '2',
      email: 'ann@example.com', name: 'Ann Buyer', line1: '1 High Street', postal_code: 'LS1 1AA', city: 'Leeds', country: 'GB',
    }),
  });
  t.equal(checkout.status, 303, 'checkout sends the shopper to the payment page');
  const { rows: [order] } = await pool.query(`select id, checkout_session_id from orders`);
  await gatewaySandboxClient(sandbox).pay(order.checkout_session_id);
  await waitFor('the order paid and invoiced by the worker process', async () =>
    (await pool.query(`select from orders o join invoices i on i.order_id = o.id join invoice_documents d on d.invoice_id = i.id
                       where o.id = $1 and o.payment_state = 'paid'`, [order.id])).rowCount === 1);
  const mail = await waitFor('the invoice e-mail in the mailbox', async () => {
    const messages = await (await fetch(`${mailbox}/api/messages`)).json() as { to: string[] }[];
    return messages.length > 0 && messages;
  });
  t.match(mail, [{ to: ['ann@example.com'] }], 'the invoice was mailed');

  // The order's two sales went to the pending deltas; the service's fold loop folds them through the pooler.
  await waitFor('the fold loop to fold the order\'s sales', async () =>
    (await pool.query(`select count(*)::int as n from daily_sales_stats_pending`)).rows[0].n === 0, 30_000);
  t.equal((await pool.query(`select count(*)::int as n from sales`)).rows[0].n, 502);

  const env = { DATABASE_URL: through, DATABASE_POOLING: 'transaction' };
  const verify = await runCli('stats', ['verify'], env);
  t.equal(verify.code, 0, verify.stderr);
  t.match(verify.stdout, 'daily_sales_stats is exact');
  const status = await runCli('migrate', ['status'], env);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, 'up to date');
  const fold = await runCli('stats', ['fold'], env);
  t.equal(fold.code, 0, fold.stderr);

  service.child.kill('SIGINT');
  t.equal(await service.exited, 0, 'exits cleanly');
  t.notMatch(service.stderr(), /prepared statement|the worker process stopped/, 'no prepared-statement errors, and the worker never died');
});

t.test('behind PgBouncer in transaction mode without DATABASE_POOLING the service and the CLIs refuse to start, naming the setting', { skip }, async (t) => {
  const { through } = await behindPgBouncer(t);
  const service = startService(t, through, { DATABASE_POOLING: '' });
  t.equal(await service.exited, 3, 'the service exits 3');
  t.match(service.stderr(), /tanktop: DATABASE_URL .* leads to a connection pooler in transaction mode .*set DATABASE_POOLING=transaction/);
  const verify = await runCli('stats', ['verify'], { DATABASE_URL: through, DATABASE_POOLING: '' });
  t.equal(verify.code, 3, 'stats verify exits 3');
  t.match(verify.stderr, /^stats: DATABASE_URL .* set DATABASE_POOLING=transaction/);
});
