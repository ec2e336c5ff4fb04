import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { planSupplierSandbox, startDevSandboxes } from '../../src/dev-sandboxes.ts';
import { supplierSandboxClient } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { coversAllItems, fulfilmentPath } from '../../src/supplier/fulfilment-path.ts';
import { createSupplierClient, retryAfter } from '../../src/supplier/supplier-client.ts';
import { SupplierRejectedError, SupplierRequestError, SupplierRetryableError } from '../../src/supplier/supplier-errors.ts';
import { checkSupplierSignature, supplierSignatureHeader } from '../../src/supplier/supplier-webhook-signature.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';

t.test('the fulfilment path walks forward one allowed step at a time, and never back', async (t) => {
  t.same(fulfilmentPath('unfulfilled', 'submitted'), ['submitted']);
  t.same(fulfilmentPath('submitted', 'delivered'), ['in_production', 'shipped', 'delivered'], 'all at once: not through partially_shipped');
  t.same(fulfilmentPath('submitted', 'partially_shipped'), ['in_production', 'partially_shipped']);
  t.same(fulfilmentPath('partially_shipped', 'shipped'), ['shipped']);
  t.same(fulfilmentPath('supplier_failed', 'in_production'), ['submitted', 'in_production'], 'news from the supplier heals a failed submission');
  t.same(fulfilmentPath('delivered', 'shipped'), [], 'a late shipped after delivered');
  t.same(fulfilmentPath('shipped', 'partially_shipped'), []);
  t.same(fulfilmentPath('in_production', 'submitted'), []);
  t.same(fulfilmentPath('cancelled', 'delivered'), [], 'a cancelled order is not brought back');
});

t.test('an order is shipped once its packages hold every unit', async (t) => {
  const items = [{ sku: 'A', quantity: 3 }, { sku: 'B', quantity: 1 }];
  t.notOk(coversAllItems(items, [{ sku: 'A', quantity: 3 }]));
  t.notOk(coversAllItems(items, [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }]));
  t.ok(coversAllItems(items, [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }, { sku: 'A', quantity: 1 }]), 'summed over packages');
});

t.test('a Supplier-Signature is checked on the raw bytes, in constant time, within 300 s either way', async (t) => {
  const secret = 'whsec_test';
  const body = Buffer.from('{"id":"evt_1"}');
  const now = 1_800_000_000;
  const header = supplierSignatureHeader(secret, body, now);
  t.equal(checkSupplierSignature(header, body, secret, 300, now * 1000), 'valid');
  t.equal(checkSupplierSignature(undefined, body, secret, 300, now * 1000), 'missing');
  t.equal(checkSupplierSignature('v1=abc', body, secret, 300, now * 1000), 'malformed');
  t.equal(checkSupplierSignature(header, Buffer.from('{"id":"evt_2"}'), secret, 300, now * 1000), 'mismatch');
  t.equal(checkSupplierSignature(`t=${now},v1=abcd`, body, secret, 300, now * 1000), 'mismatch', 'a signature of another length is no match (and no exception)');
  t.equal(checkSupplierSignature(header, body, secret, 300, (now + 301) * 1000), 'stale');
  t.equal(checkSupplierSignature(header, body, secret, 300, (now - 301) * 1000), 'stale', 'from the future too');
  const rotated = `t=${now},v1=${'0'.repeat(64)},${header.split(',')[1]}`;
  t.equal(checkSupplierSignature(rotated, body, secret, 300, now * 1000), 'valid', 'one of several v1 values (a secret being rotated)');
});

t.test('Retry-After as seconds or as an HTTP date', async (t) => {
  t.equal(retryAfter('7'), 7);
  t.equal(retryAfter(null), null);
  t.equal(retryAfter('soon'), null);
  const inTen = retryAfter(new Date(Date.now() + 10_000).toUTCString())!;
  t.ok(inTen >= 9 && inTen <= 11, String(inTen));
});

t.test('the client sorts the supplier\'s answers into retryable, rejected and our own mistakes, and times out', async (t) => {
  const { db, pool } = await freshDatabase(t);
  const answers: Record<string, { status: number; body?: unknown; headers?: Record<string, string>; hang?: boolean }> = {
    '/v1/orders/@R429': { status: 429, headers: { 'retry-after': '4' }, body: { error: { code: 'rate_limited', message: 'wait' } } },
    '/v1/orders/@R503': { status: 503, body: { error: { code: 'service_unavailable', message: 'down' } } },
    '/v1/orders/@R401': { status: 401, body: { error: { code: 'unauthorized', message: 'bad token' } } },
    '/v1/orders/@R422/cancel': { status: 409, body: { error: { code: 'not_cancellable', message: 'in production' } } },
    '/v1/orders/@R404': { status: 404, body: { error: { code: 'not_found', message: 'no' } } },
    '/v1/orders/@SLOW': { status: 200, hang: true },
    '/v1/orders/@BAD': { status: 200, body: { hello: 'world' } },
  };
  const server = http.createServer((request, response) => {
    const answer = answers[request.url ?? ''];
    if (!answer || answer.hang) return;
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const client = createSupplierClient({ apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`, apiToken: 't', timeoutMs: 300, db, log: testLog });
  const call = { orderId: null, source: 'test' };
  const limited = await client.findOrder('R429', call).catch((error: unknown) => error);
  t.match(limited, { constructor: SupplierRetryableError, status: 429, code: 'rate_limited', retryAfterSeconds: 4 });
  t.match(await client.findOrder('R503', call).catch((error: unknown) => error), { constructor: SupplierRetryableError, status: 503 });
  t.match(await client.findOrder('R401', call).catch((error: unknown) => error), { constructor: SupplierRequestError, status: 401, code: 'unauthorized' });
  t.match(await client.cancelOrder('R422', call).catch((error: unknown) => error), { constructor: SupplierRejectedError, code: 'not_cancellable' });
  t.equal(await client.findOrder('R404', call), null, 'a 404 is no order');
  t.match(await client.findOrder('SLOW', call).catch((error: unknown) => error), { constructor: SupplierRetryableError, status: null, code: 'timeout' });
  t.match(await client.findOrder('BAD', call).catch((error: unknown) => error), { constructor: SupplierRetryableError, code: 'bad_response' });
  const { rows } = await pool.query(`select path, status, error from supplier_calls order by id`);
  t.equal(rows.length, 7, 'every call recorded');
  t.match(rows.find((r) => r.path === '/orders/@SLOW'), { status: null, error: 'no answer within 300 ms' });
});

t.test('make start runs the supplier sandbox when no supplier is configured, and hands its address, token and secret on', async (t) => {
  t.same(planSupplierSandbox({}), { host: '127.0.0.1', port: 12112, portFromEnv: false, apiToken: 'tanktop-dev-supplier-token', webhookSecret: 'supplier_dev_webhook_secret' });
  t.equal(planSupplierSandbox({ SUPPLIER_API_URL: 'https://api.supplier.example/v1' }), null, 'a configured supplier is used as it is');
  t.equal(planSupplierSandbox({ DEV_SANDBOXES: 'off' }), null);
  const sandboxes = await startDevSandboxes({
    DEV_SANDBOXES: 'auto', STRIPE_API_BASE: 'http://127.0.0.1:1', SMTP_URL: 'smtp://127.0.0.1:1', ALERT_WEBHOOK_URL: 'http://127.0.0.1:1/hooks',
    SUPPLIER_SANDBOX_PORT: '0', SUPPLIER_API_TOKEN: 'token-from-env',
  }, testLog);
  t.teardown(() => sandboxes.close());
  t.match(sandboxes.env, { SUPPLIER_API_URL: `${sandboxes.supplierUrl}/v1`, SUPPLIER_API_TOKEN: 'token-from-env', SUPPLIER_WEBHOOK_SECRET: 'supplier_dev_webhook_secret' });
  await sandboxes.setSupplierWebhookUrl('http://127.0.0.1:3999/webhooks/supplier');
  t.equal((await supplierSandboxClient(sandboxes.supplierUrl!).settings()).webhookUrl, 'http://127.0.0.1:3999/webhooks/supplier');
  const answer = await fetch(`${sandboxes.env.SUPPLIER_API_URL}/orders/@nothing`, { headers: { authorization: 'Bearer token-from-env' } });
  t.equal(answer.status, 404, 'the sandbox takes the configured token');
});
