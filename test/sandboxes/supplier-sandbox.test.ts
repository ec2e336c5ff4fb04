import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { SupplierEvent, SupplierOrder } from '../../src/sandboxes/supplier/supplier-objects.ts';
import { supplierSandboxClient, SupplierSandboxError, type SupplierSandboxClient } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { startSupplierSandbox, type SupplierSandboxOptions } from '../../src/sandboxes/supplier/supplier-sandbox.ts';

const TOKEN = 'test-supplier-token';
const SECRET = 'test_supplier_webhook_secret';
const SIGNATURE_TOLERANCE_S = 300;
/** Long enough that an order stays where a test put it. */
const STILL = { production: 600_000, shipping: 600_000, delivery: 600_000 };
const IMMEDIATE = { production: 0, shipping: 0, delivery: 0 };

interface Received {
  event: SupplierEvent;
  body: string;
  at: number;
}

/**
 * Our webhook endpoint in miniature: every delivery's Supplier-Signature is
 * checked on the raw bytes (HMAC-SHA256, constant-time compare, 5-minute
 * window) as docs/supplier-api.md tells a receiver to; it can be told to
 * answer 500 for a while.
 */
async function startReceiver(t: Test) {
  const received: Received[] = [];
  const refused: Array<{ status: number; body: string; reason: string }> = [];
  const state = { failuresLeft: 0 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const problem = signatureProblem(body, String(request.headers['supplier-signature'] ?? ''), SECRET);
      if (problem) {
        refused.push({ status: 400, body, reason: problem });
        response.writeHead(400).end(problem);
        return;
      }
      if (state.failuresLeft > 0) {
        state.failuresLeft--;
        refused.push({ status: 500, body, reason: 'told to fail' });
        response.writeHead(500).end('not now');
        return;
      }
      received.push({ event: JSON.parse(body) as SupplierEvent, body, at: Date.now() });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/supplier`,
    received,
    refused,
    failNext(count: number) {
      state.failuresLeft = count;
    },
    types: () => received.map((item) => item.event.type),
    async waitFor(count: number, timeoutMs = 5000): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${received.length}: ${received.map((r) => r.event.type).join(', ')}`);
        await sleep(10);
      }
      return received;
    },
  };
}

/** Why a delivery's signature does not verify, or null when it does. */
function signatureProblem(body: string, header: string, secret: string): string | null {
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.split('=', 2);
    if (key === 't') timestamp = Number(value);
    if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || !Number.isInteger(timestamp)) return 'no timestamp';
  if (Math.abs(Date.now() / 1000 - timestamp) > SIGNATURE_TOLERANCE_S) return 'timestamp outside the tolerance';
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest();
  return signatures.some((given) => timingSafeEqual(given, expected)) ? null : 'no matching v1 signature';
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

interface Harness {
  url: string;
  api: ReturnType<typeof apiClient>;
  supplier: SupplierSandboxClient;
  receiver: Receiver;
}

async function startHarness(t: Test, options: Partial<SupplierSandboxOptions> = {}): Promise<Harness> {
  const receiver = await startReceiver(t);
  const sandbox = await startSupplierSandbox({
    apiToken: TOKEN, webhookSecret: SECRET, webhookUrl: receiver.url, webhookRetryDelaysMs: [50, 100, 200], delaysMs: STILL, ...options,
  });
  t.teardown(() => sandbox.close());
  return { url: sandbox.url, api: apiClient(sandbox.url), supplier: supplierSandboxClient(sandbox.url), receiver };
}

interface ApiAnswer<T = SupplierOrder> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

interface ApiError {
  error: { code: string; message: string; field?: string; sku?: string; order_id?: string; external_id?: string; retry_after?: number };
}

/** Our side of the supplier API, by hand: plain fetch with the bearer token. */
function apiClient(baseUrl: string, token = TOKEN) {
  async function call<T>(method: string, path: string, options: { body?: unknown; key?: string; signal?: AbortSignal; raw?: string } = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
    if (options.key !== undefined) headers['idempotency-key'] = options.key;
    const response = await fetch(`${baseUrl}/v1${path}`, {
      method, headers, signal: options.signal,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: (text ? JSON.parse(text) : null) as T };
  }
  return {
    create: <T = SupplierOrder>(body: unknown, key: string, signal?: AbortSignal) => call<T>('POST', '/orders', { body, key, signal }),
    get: <T = SupplierOrder>(reference: string) => call<T>('GET', `/orders/${reference}`),
    cancel: <T = SupplierOrder>(reference: string) => call<T>('POST', `/orders/${reference}/cancel`),
    call,
  };
}

function orderBody(externalId: string, overrides: Record<string, unknown> = {}) {
  return {
    external_id: externalId,
    recipient: {
      name: 'Ada Lovelace', address1: 'Hauptstraße 1', address2: 'Hinterhaus', city: 'Berlin',
      zip: '10115', country_code: 'DE', email: 'ada@example.com',
    },
    items: [
      { sku: 'TT-BLUE-M', quantity: 2, name: 'Tank top blue M' },
      { sku: 'SOCKS-1', quantity: 1, name: 'Socks' },
    ],
    ...overrides,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function rejection(promise: Promise<unknown>): Promise<Error & { status?: number; code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

t.test('a call without the bearer token, or with another one, is a 401 JSON error and creates nothing', async (t) => {
  const { url, supplier } = await startHarness(t);
  const none = await fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'k1' }, body: JSON.stringify(orderBody('tt-1')) });
  t.equal(none.status, 401);
  t.equal(none.headers.get('www-authenticate'), 'Bearer realm="supplier"');
  t.same(await none.json(), { error: { code: 'unauthorized', message: 'Send your API token as Authorization: Bearer <token>.' } });

  const wrong = await apiClient(url, 'another-token').create(orderBody('tt-1'), 'k1');
  t.equal(wrong.status, 401);
  t.same(wrong.json, { error: { code: 'unauthorized', message: 'The API token is not valid.' } });
  const basic = await fetch(`${url}/v1/orders/@tt-1`, { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
  t.equal(basic.status, 401, 'only a bearer token is accepted');

  t.same(await supplier.orders(), []);
  t.same((await supplier.requests()).map((r) => [r.method, r.path, r.status]), [['POST', '/v1/orders', 401], ['POST', '/v1/orders', 401], ['GET', '/v1/orders/@tt-1', 401]]);
});

t.test('an order is created with 201 and read back by its id and by @external_id', async (t) => {
  const { api, receiver } = await startHarness(t);
  const created = await api.create(orderBody('tt-1001'), 'order-1001');
  t.equal(created.status, 201);
  const order = created.json;
  t.match(order.id, /^ord_[A-Za-z0-9]{20}$/);
  t.equal(created.headers.get('location'), `/v1/orders/${order.id}`);
  t.match(created.headers.get('x-request-id'), /^req_/);
  t.equal(order.external_id, 'tt-1001');
  t.equal(order.status, 'pending');
  t.equal(order.status_reason, null);
  t.same(order.recipient, {
    name: 'Ada Lovelace', address1: 'Hauptstraße 1', address2: 'Hinterhaus', city: 'Berlin',
    state_code: null, zip: '10115', country_code: 'DE', email: 'ada@example.com',
  });
  t.same(order.items, [{ sku: 'TT-BLUE-M', quantity: 2, name: 'Tank top blue M' }, { sku: 'SOCKS-1', quantity: 1, name: 'Socks' }]);
  t.same(order.shipments, []);
  t.match(order.created, ISO);
  t.equal(order.updated, order.created);

  const byId = await api.get(order.id);
  t.equal(byId.status, 200);
  t.same(byId.json, order);
  const byExternalId = await api.get('@tt-1001');
  t.same(byExternalId.json, order);
  const encoded = await api.get('%40tt-1001');
  t.equal(encoded.json.id, order.id, 'an encoded @ works too');

  const missing = await api.get<ApiError>('@tt-nope');
  t.equal(missing.status, 404);
  t.same(missing.json.error, { code: 'not_found', message: 'There is no order with external_id tt-nope.' });
  t.equal((await api.get<ApiError>('ord_nope')).json.error.code, 'not_found');

  const [accepted] = await receiver.waitFor(1);
  t.equal(accepted?.event.type, 'order.accepted');
  t.match(accepted?.event.id, /^evt_/);
  t.match(accepted?.event.created, ISO);
  t.same(accepted?.event.data, { order });
  t.equal(receiver.refused.length, 0, 'the signature verified');
});

t.test('a request the supplier cannot take is refused with a machine code naming what is wrong, and creates nothing', async (t) => {
  const { api, supplier } = await startHarness(t);
  const cases: Array<[string, unknown, number, string, string]> = [
    ['no zip', orderBody('tt-1', { recipient: { ...orderBody('x').recipient, zip: undefined } }), 400, 'validation_failed', 'recipient.zip'],
    ['an unknown field', { ...orderBody('tt-1'), shipping: 'EXPRESS' }, 400, 'validation_failed', 'shipping'],
    ['a bad external_id', orderBody('tt 1'), 400, 'validation_failed', 'external_id'],
    ['no items', orderBody('tt-1', { items: [] }), 400, 'validation_failed', 'items'],
    ['a fractional quantity', orderBody('tt-1', { items: [{ sku: 'A', quantity: 1.5, name: 'A' }] }), 400, 'validation_failed', 'items[0].quantity'],
    ['a repeated sku', orderBody('tt-1', { items: [{ sku: 'A', quantity: 1, name: 'A' }, { sku: 'A', quantity: 1, name: 'A' }] }), 400, 'validation_failed', 'items[1].sku'],
    ['a lower-case country', orderBody('tt-1', { recipient: { ...orderBody('x').recipient, country_code: 'de' } }), 400, 'validation_failed', 'recipient.country_code'],
    ['an unknown country', orderBody('tt-1', { recipient: { ...orderBody('x').recipient, country_code: 'XX' } }), 422, 'invalid_address', 'recipient.country_code'],
    ['a US address without a state', orderBody('tt-1', { recipient: { ...orderBody('x').recipient, country_code: 'US' } }), 422, 'invalid_address', 'recipient.state_code'],
    ['an unknown sku', orderBody('tt-1', { items: [{ sku: 'TT-1', quantity: 1, name: 'ok' }, { sku: 'UNKNOWN-9', quantity: 1, name: 'Mystery' }] }), 422, 'unknown_sku', 'items[1].sku'],
    ['a sold-out sku', orderBody('tt-1', { items: [{ sku: 'SOLDOUT-TEE', quantity: 1, name: 'Tee' }] }), 422, 'out_of_stock', 'items[0].sku'],
  ];
  for (const [index, [what, body, status, code, field]] of cases.entries()) {
    const answer = await api.create<ApiError>(body, `key-${index}`);
    t.same([answer.status, answer.json.error.code, answer.json.error.field], [status, code, field], what);
    t.type(answer.json.error.message, 'string');
  }
  const unknownSku = await api.create<ApiError>(cases[9]?.[1], 'again');
  t.equal(unknownSku.json.error.sku, 'UNKNOWN-9', 'the SKU is named');

  const noKey = await api.call<ApiError>('POST', '/orders', { body: orderBody('tt-1') });
  t.same([noKey.status, noKey.json.error.code, noKey.json.error.field], [400, 'validation_failed', 'Idempotency-Key']);
  const badJson = await api.call<ApiError>('POST', '/orders', { raw: '{"external_id": ', key: 'k' });
  t.same([badJson.status, badJson.json.error.code], [400, 'validation_failed']);
  t.same(await supplier.orders(), [], 'nothing was created');

  const withState = await api.create(orderBody('tt-us', { recipient: { ...orderBody('x').recipient, country_code: 'US', state_code: 'NY', zip: '10001', city: 'New York' } }), 'us');
  t.equal(withState.status, 201, 'a US address with its state is taken');
});

t.test('with a catalogue, only its SKUs are made', async (t) => {
  const { api } = await startHarness(t, { catalogue: ['TT-BLUE-M', 'SOCKS-1'] });
  t.equal((await api.create(orderBody('tt-1'), 'k1')).status, 201);
  const other = await api.create<ApiError>(orderBody('tt-2', { items: [{ sku: 'TT-RED-S', quantity: 1, name: 'Red' }] }), 'k2');
  t.same([other.status, other.json.error.code, other.json.error.sku], [422, 'unknown_sku', 'TT-RED-S']);
});

t.test('the same Idempotency-Key and body replays the original response; with another body it is refused', async (t) => {
  const { api, supplier } = await startHarness(t);
  const first = await api.create(orderBody('tt-7'), 'order-7-submit');
  await supplier.advance('tt-7', 'in_production');

  const { recipient, items, external_id } = orderBody('tt-7');
  const replay = await api.create({ items, recipient, external_id }, 'order-7-submit');
  t.equal(replay.status, 201);
  t.equal(replay.headers.get('idempotent-replayed'), 'true');
  t.equal(replay.text, first.text, 'the same bytes: the order as it was when created, keys in any order');
  t.equal(replay.json.status, 'pending');
  t.equal((await api.get('@tt-7')).json.status, 'in_production', 'GET shows where it is now');

  const other = await api.create<ApiError>(orderBody('tt-7', { items: [{ sku: 'TT-BLUE-M', quantity: 3, name: 'Tank top blue M' }] }), 'order-7-submit');
  t.equal(other.status, 422);
  t.equal(other.json.error.code, 'idempotency_key_reused');
  t.equal(other.json.error.order_id, first.json.id);
  t.match(other.json.error.message, 'order-7-submit');

  t.equal((await supplier.orders()).length, 1, 'one order, not two');
  const calls = (await supplier.requests()).filter((r) => r.method === 'POST');
  t.same(calls.map((r) => [r.status, r.replayed, r.idempotencyKey, r.externalId, r.orderId]), [
    [201, false, 'order-7-submit', 'tt-7', first.json.id],
    [201, true, 'order-7-submit', 'tt-7', first.json.id],
    [422, false, 'order-7-submit', 'tt-7', null],
  ]);
});

t.test('the same external_id under another key is 409 duplicate_external_id naming the existing order', async (t) => {
  const { api, supplier } = await startHarness(t);
  const first = await api.create(orderBody('tt-8'), 'key-a');
  const second = await api.create<ApiError>(orderBody('tt-8'), 'key-b');
  t.equal(second.status, 409);
  t.same(second.json.error, {
    code: 'duplicate_external_id',
    message: `An order with external_id tt-8 exists already (${first.json.id}); GET /orders/@tt-8 to see it.`,
    order_id: first.json.id,
    external_id: 'tt-8',
  });
  const again = await api.create<ApiError>(orderBody('tt-8'), 'key-b');
  t.equal(again.status, 409, 'a refusal is not remembered under the key: judged afresh, still a duplicate');
  t.equal((await supplier.orders()).length, 1);
});

t.test('an order in two packages goes from pending to delivered, every step a signed webhook in order', async (t) => {
  const { api, supplier, receiver } = await startHarness(t, { delaysMs: IMMEDIATE, splitShipmentsEvery: 1 });
  const created = await api.create(orderBody('tt-42'), 'order-42');
  t.equal(created.json.status, 'pending', 'the answer leaves before the clock moves');
  const events = (await receiver.waitFor(6)).map((r) => r.event);
  t.same(receiver.types(), ['order.accepted', 'order.in_production', 'order.shipment_created', 'order.shipment_created', 'order.shipped', 'order.delivered']);
  t.same(events.map((e) => e.data.order.status), ['pending', 'in_production', 'partially_shipped', 'shipped', 'shipped', 'delivered'], 'each carries the order after the change');
  t.equal(new Set(events.map((e) => e.id)).size, 6, 'event ids are unique');
  const updated = events.map((e) => Date.parse(e.data.order.updated));
  t.ok(updated.every((at, i) => i === 0 || at > (updated[i - 1] as number) || events[i]?.type === 'order.shipped'),
    'updated increases with every change (order.shipped shares its last package\'s)');
  t.equal(receiver.refused.length, 0, 'every signature verified');

  const [first, second] = [events[2]?.data.shipment, events[3]?.data.shipment];
  t.same(first?.items, [{ sku: 'TT-BLUE-M', quantity: 2 }]);
  t.same(second?.items, [{ sku: 'SOCKS-1', quantity: 1 }]);
  t.same([first?.carrier, first?.service, second?.carrier], ['DHL', 'DHL Paket', 'UPS']);
  t.match(first?.id, /^shp_/);
  t.match(first?.tracking_number, /^SB\d{18}$/);
  t.equal(first?.tracking_url, `https://tracking.example.com/dhl/${first?.tracking_number}`);
  t.equal(first?.delivered_at, null);
  t.same(events[2]?.data.order.shipments.map((s) => s.id), [first?.id], 'the first package is on the order');
  t.notOk('shipment' in (events[4]?.data ?? {}), 'order.shipped carries the order alone');

  const delivered = (await api.get('@tt-42')).json;
  t.equal(delivered.status, 'delivered');
  t.same(delivered.shipments.map((s) => s.id), [first?.id, second?.id]);
  t.ok(delivered.shipments.every((s) => ISO.test(s.shipped_at) && ISO.test(s.delivered_at ?? '')), 'shipped and delivered times are set');
  const reports = await supplier.waitForEvents((all) => all.length === 6 && all.every((e) => e.outcome === 'delivered'));
  t.same(reports.map((r) => [r.externalId, r.attempts.length]), Array(6).fill(['tt-42', 1]));
});

t.test('one order split through the control API ships in two packages; a single unit cannot be split', async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  await api.create(orderBody('tt-single', { items: [{ sku: 'TT-1', quantity: 3, name: 'Tee' }] }), 'k1');
  const planned = await supplier.split('tt-single');
  t.equal(planned.sandbox.packages, 2);
  const shipped = await supplier.advance('tt-single', 'shipped');
  t.equal(shipped.status, 'shipped');
  t.same(shipped.shipments.map((s) => s.items), [[{ sku: 'TT-1', quantity: 2 }], [{ sku: 'TT-1', quantity: 1 }]], 'one line splits by quantity');
  await receiver.waitFor(5);
  t.same(receiver.types(), ['order.accepted', 'order.in_production', 'order.shipment_created', 'order.shipment_created', 'order.shipped']);

  await api.create(orderBody('tt-one', { items: [{ sku: 'TT-1', quantity: 1, name: 'Tee' }] }), 'k2');
  const refused = await rejection(supplier.split('tt-one'));
  t.equal(refused.status, 409);
  t.equal(refused.code, 'invalid_transition');
  await api.create(orderBody('tt-two'), 'k3');
  const oneBox = await supplier.advance('tt-two', 'delivered');
  t.equal(oneBox.shipments.length, 1, 'without a split, one package');
  await receiver.waitFor(11);
  t.same(receiver.types().slice(6), ['order.accepted', 'order.in_production', 'order.shipment_created', 'order.shipped', 'order.delivered']);
});

t.test('the clock runs faster at a higher speed, and new delays apply to the next steps', async (t) => {
  const { api, supplier, receiver } = await startHarness(t, { clock: { speed: 20 }, delaysMs: { production: 2000, shipping: 600_000, delivery: 600_000 } });
  const before = Date.now();
  await api.create(orderBody('tt-fast'), 'k1');
  const { sandbox } = await supplier.order('tt-fast');
  t.equal(sandbox.next?.status, 'in_production');
  const dueIn = Date.parse(sandbox.next?.at ?? '') - before;
  t.ok(dueIn >= 90 && dueIn <= 1000, `2 s at speed 20 is 100 ms (due in ${dueIn} ms)`);
  await receiver.waitFor(2, 3000);
  t.equal(receiver.types()[1], 'order.in_production');
  t.ok((receiver.received[1]?.at ?? 0) - before >= 95, 'not before its time');

  const settings = await supplier.configure({ delaysMs: { delivery: 0 } });
  t.same(settings, { webhookUrl: receiver.url, delaysMs: { production: 2000, shipping: 600_000, delivery: 0 }, splitShipmentsEvery: 0, speed: 20 });
  await supplier.advance('tt-fast', 'shipped');
  await supplier.waitForOrder('tt-fast', (order) => order.status === 'delivered');
});

t.test('an order is cancelled while pending or on hold, once; in production the cancel is refused with 409', async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  const order = (await api.create(orderBody('tt-c1'), 'k1')).json;
  const cancelled = await api.cancel('@tt-c1');
  t.equal(cancelled.status, 200);
  t.equal(cancelled.json.status, 'cancelled');
  t.equal(cancelled.json.status_reason, 'Cancelled at your request.');
  const twice = await api.cancel(order.id);
  t.equal(twice.status, 200, 'a second cancel (here by id) changes nothing');
  t.equal(twice.json.updated, cancelled.json.updated);
  t.equal((await supplier.order('tt-c1')).sandbox.next, null, 'the clock stopped for it');

  await api.create(orderBody('tt-c2'), 'k2');
  await supplier.advance('tt-c2', 'on_hold');
  t.equal((await api.cancel('@tt-c2')).json.status, 'cancelled', 'on hold can be cancelled');

  await api.create(orderBody('tt-c3'), 'k3');
  await supplier.advance('tt-c3', 'in_production');
  const late = await api.cancel<ApiError>('@tt-c3');
  t.equal(late.status, 409);
  t.equal(late.json.error.code, 'not_cancellable');
  t.equal(late.json.error.message, `Order ${(await api.get('@tt-c3')).json.id} is in_production: an order can be cancelled only while pending or on_hold.`);
  t.equal((await api.get('@tt-c3')).json.status, 'in_production');
  t.equal((await api.cancel<ApiError>('@tt-missing')).status, 404);

  await receiver.waitFor(7);
  await sleep(50);
  t.same(receiver.types(), [
    'order.accepted', 'order.cancelled',
    'order.accepted', 'order.on_hold', 'order.cancelled',
    'order.accepted', 'order.in_production',
  ], 'one order.cancelled per cancelled order, none for a refused cancel');
  t.equal(receiver.received[1]?.event.data.order.status_reason, 'Cancelled at your request.');
});

t.test('advance walks an order forward by hand; a move backwards or from a final status is refused', async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  await api.create(orderBody('tt-a1'), 'k1');
  const partial = await supplier.advance('tt-a1', 'partially_shipped');
  t.equal(partial.status, 'partially_shipped');
  t.equal(partial.sandbox.packages, 2);
  t.same(partial.sandbox.next?.status, 'shipped', 'the clock carries on from there');
  const back = await rejection(supplier.advance('tt-a1', 'in_production'));
  t.equal(back.status, 409);
  t.equal(back.message, 'An order that is partially_shipped cannot be advanced to in_production.');
  await supplier.advance('tt-a1', 'delivered');
  const final = await rejection(supplier.advance('tt-a1', 'failed'));
  t.equal(final.status, 409);
  const bad = await rejection(supplier.advance('tt-a1', 'lost' as never));
  t.equal(bad.status, 400);
  t.equal((await rejection(supplier.advance('tt-none', 'shipped'))).status, 404);
  await receiver.waitFor(6);
  t.same(receiver.types(), ['order.accepted', 'order.in_production', 'order.shipment_created', 'order.shipment_created', 'order.shipped', 'order.delivered']);
});

t.test('fault fail5xx with a count answers the next calls with that status, then serves again', async (t) => {
  const { api, supplier } = await startHarness(t);
  await supplier.addFaults({ fail5xx: { count: 2, status: 503 } });
  const first = await api.create<ApiError>(orderBody('tt-f1'), 'k1');
  t.equal(first.status, 503);
  t.equal(first.json.error.code, 'service_unavailable');
  const second = await api.get<ApiError>('@tt-f1');
  t.equal(second.status, 503);
  t.same(await supplier.orders(), [], 'a failed call created nothing');
  t.equal((await supplier.faults()).fail5xx, null, 'used up');
  const third = await api.create(orderBody('tt-f1'), 'k1');
  t.equal(third.status, 201, 'the retry with the same key gets through');
  t.same((await supplier.requests()).map((r) => [r.method, r.status, r.fault, r.externalId]), [
    ['POST', 503, 'fail5xx', 'tt-f1'],
    ['GET', 503, 'fail5xx', 'tt-f1'],
    ['POST', 201, null, 'tt-f1'],
  ]);

  await supplier.addFaults({ fail5xx: { count: 1 } });
  t.equal((await api.get('@tt-f1')).status, 500, 'the status defaults to 500');
});

t.test('fault fail5xx with a rate fails that share of calls until the faults are reset', async (t) => {
  const { api, supplier } = await startHarness(t);
  await api.create(orderBody('tt-r1'), 'k1');
  await supplier.addFaults({ fail5xx: { rate: 1, status: 502 } });
  const all = await Promise.all(Array.from({ length: 5 }, () => api.get<ApiError>('@tt-r1')));
  t.same(all.map((a) => [a.status, a.json.error.code]), Array(5).fill([502, 'bad_gateway']));
  t.same((await supplier.faults()).fail5xx, { count: null, rate: 1, status: 502 }, 'a rate stays');

  await supplier.addFaults({ fail5xx: { rate: 0.5 } });
  const statuses = [];
  for (let i = 0; i < 80; i++) statuses.push((await api.get('@tt-r1')).status);
  const failed = statuses.filter((status) => status === 500).length;
  t.ok(failed >= 15 && failed <= 65, `about half of 80 failed (${failed})`);
  t.equal(failed + statuses.filter((status) => status === 200).length, 80);
  await supplier.resetFaults();
  t.equal((await api.get('@tt-r1')).status, 200);
});

t.test('fault rateLimit answers 429 with Retry-After in seconds', async (t) => {
  const { api, supplier } = await startHarness(t);
  await supplier.addFaults({ rateLimit: { count: 2, retryAfterSeconds: 7 } });
  const limited = await api.create<ApiError>(orderBody('tt-l1'), 'k1');
  t.equal(limited.status, 429);
  t.equal(limited.headers.get('retry-after'), '7');
  t.same(limited.json.error, { code: 'rate_limited', message: 'Too many requests: try again in 7 seconds.', retry_after: 7 });
  t.equal((await api.get('@tt-l1')).status, 429);
  t.equal((await api.create(orderBody('tt-l1'), 'k1')).status, 201);
  t.same((await supplier.requests()).map((r) => [r.status, r.fault]), [[429, 'rateLimit'], [429, 'rateLimit'], [201, null]]);
});

t.test('fault reject refuses the next orders with each code; the same key is judged afresh afterwards', async (t) => {
  const { api, supplier } = await startHarness(t);
  for (const code of ['invalid_address', 'unknown_sku', 'out_of_stock'] as const) {
    await supplier.addFaults({ reject: { count: 1, code } });
    const refused = await api.create<ApiError>(orderBody(`tt-${code}`), `key-${code}`);
    t.equal(refused.status, 422, code);
    t.equal(refused.json.error.code, code);
    t.match(refused.json.error.message, 'injected by the supplier sandbox');
    if (code !== 'invalid_address') t.equal(refused.json.error.sku, 'TT-BLUE-M');
    const retried = await api.create(orderBody(`tt-${code}`), `key-${code}`);
    t.equal(retried.status, 201, `${code}: a refusal is not remembered under its key`);
  }
  t.equal((await supplier.orders()).length, 3);
  t.same((await supplier.requests()).map((r) => r.fault), ['reject', null, 'reject', null, 'reject', null]);
});

t.test("fault acceptThenTimeout: the client's fetch times out, yet the order exists and a retry with its key gets it back", async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  await supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 5000 } });
  const timedOut = await rejection(api.create(orderBody('tt-t1'), 'order-t1', AbortSignal.timeout(300)));
  t.equal(timedOut.name, 'TimeoutError');

  const found = await api.get('@tt-t1');
  t.equal(found.status, 200, 'looked up by external_id, the order is there');
  t.equal(found.json.status, 'pending');
  const retried = await api.create(orderBody('tt-t1'), 'order-t1');
  t.equal(retried.status, 201);
  t.equal(retried.headers.get('idempotent-replayed'), 'true');
  t.equal(retried.json.id, found.json.id);
  t.equal((await supplier.orders()).length, 1);
  const posts = (await supplier.requests()).filter((r) => r.method === 'POST');
  t.same(posts.map((r) => [r.status, r.fault, r.orderId, r.replayed]), [[null, 'acceptThenTimeout', found.json.id, false], [201, null, found.json.id, true]]);
  await receiver.waitFor(1);
  t.equal(receiver.types()[0], 'order.accepted', 'the supplier announced the order it accepted');

  await supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 150 } });
  const started = Date.now();
  const dropped = await rejection(api.create(orderBody('tt-t2'), 'order-t2'));
  t.equal(dropped.message, 'fetch failed', 'a client without a timeout sees the connection drop');
  t.ok(Date.now() - started >= 140, 'after the delay');
  t.equal((await api.get('@tt-t2')).status, 200);
});

t.test('closing the sandbox drops a response an acceptThenTimeout fault is holding, at once', async (t) => {
  const sandbox = await startSupplierSandbox({ apiToken: TOKEN, webhookSecret: SECRET });
  t.teardown(() => sandbox.close());
  const supplier = supplierSandboxClient(sandbox.url);
  await supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 60_000 } });
  const held = rejection(apiClient(sandbox.url).create(orderBody('tt-held'), 'k1'));
  await supplier.waitForOrder('tt-held', (order) => order.status === 'pending');
  const started = Date.now();
  await sandbox.close();
  t.ok(Date.now() - started < 2000, `closed in ${Date.now() - started} ms`);
  t.equal((await held).message, 'fetch failed');
});

t.test('fault duplicateWebhooks delivers the next event twice with the same id', async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  await supplier.addFaults({ duplicateWebhooks: 1 });
  await api.create(orderBody('tt-d1'), 'k1');
  await supplier.advance('tt-d1', 'in_production');
  await receiver.waitFor(3);
  await sleep(50);
  t.same(receiver.types(), ['order.accepted', 'order.accepted', 'order.in_production']);
  t.equal(receiver.received[0]?.event.id, receiver.received[1]?.event.id);
  t.equal(receiver.received[0]?.body, receiver.received[1]?.body);
  const [accepted] = await supplier.events();
  t.same(accepted?.attempts.map((a) => [a.copy, a.attempt, a.status]), [[1, 1, 204], [2, 1, 204]]);
});

t.test('fault reorderWebhooks holds the next events and delivers them newest first', async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  await supplier.addFaults({ reorderWebhooks: 3 });
  await api.create(orderBody('tt-o1'), 'k1');
  await supplier.advance('tt-o1', 'in_production');
  await sleep(80);
  t.equal(receiver.received.length, 0, 'held');
  t.same((await supplier.events()).map((e) => e.outcome), ['held', 'held']);
  await supplier.advance('tt-o1', 'delivered');
  await receiver.waitFor(5);
  t.same(receiver.types(), ['order.shipment_created', 'order.in_production', 'order.accepted', 'order.shipped', 'order.delivered'],
    'the three held go out newest first, then the rest in order');
  t.same((await supplier.events()).map((e) => e.outcome), Array(5).fill('delivered'));
});

t.test('fault dropWebhooks loses the next event, recorded as dropped, until it is resent', async (t) => {
  const { api, supplier, receiver } = await startHarness(t, { delaysMs: { ...STILL, production: 0 } });
  await supplier.addFaults({ dropWebhooks: 1 });
  await api.create(orderBody('tt-x1'), 'k1');
  await receiver.waitFor(1);
  await sleep(50);
  t.same(receiver.types(), ['order.in_production']);
  const events = await supplier.events();
  t.same(events.map((e) => [e.type, e.outcome, e.attempts.length]), [['order.accepted', 'dropped', 0], ['order.in_production', 'delivered', 1]]);
  const resent = await supplier.resend(events[0]?.id as string);
  t.equal(resent.id, events[0]?.id);
  await receiver.waitFor(2);
  t.equal(receiver.received[1]?.event.id, events[0]?.id, 'the same event, late and out of order');
  t.equal((await supplier.event(events[0]?.id as string)).outcome, 'delivered');
});

t.test('fault delayWebhooksMs holds every delivery back that long, in order', async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  await supplier.addFaults({ delayWebhooksMs: 400 });
  const before = Date.now();
  await api.create(orderBody('tt-w1'), 'k1');
  await supplier.advance('tt-w1', 'in_production');
  await sleep(200);
  t.equal(receiver.received.length, 0, 'nothing yet');
  const [first] = await receiver.waitFor(2);
  t.ok((first?.at ?? 0) - before >= 400, `delivered after ${(first?.at ?? 0) - before} ms`);
  t.same(receiver.types(), ['order.accepted', 'order.in_production']);
});

t.test('fault failAfterAcceptance: the order fails instead of going into production, and cannot be cancelled', async (t) => {
  const { api, supplier, receiver } = await startHarness(t, { delaysMs: IMMEDIATE });
  await supplier.addFaults({ failAfterAcceptance: 1 });
  await api.create(orderBody('tt-fa'), 'k1');
  await receiver.waitFor(2);
  t.same(receiver.types(), ['order.accepted', 'order.failed']);
  const failed = receiver.received[1]?.event.data.order;
  t.equal(failed?.status, 'failed');
  t.equal(failed?.status_reason, 'Production failed: the print file could not be processed.');
  t.equal((await api.cancel<ApiError>('@tt-fa')).json.error.code, 'not_cancellable');
  await api.create(orderBody('tt-fb'), 'k2');
  await supplier.waitForOrder('tt-fb', (order) => order.status === 'delivered');
  t.equal((await supplier.faults()).failAfterAcceptance, 0, 'used up: the next order ships');
});

t.test('fault cancelAfterAcceptance: the supplier cancels the order and says why', async (t) => {
  const { api, supplier, receiver } = await startHarness(t, { delaysMs: IMMEDIATE });
  await supplier.addFaults({ cancelAfterAcceptance: 1 });
  await api.create(orderBody('tt-ca'), 'k1');
  await receiver.waitFor(2);
  await sleep(50);
  t.same(receiver.types(), ['order.accepted', 'order.cancelled']);
  const order = (await api.get('@tt-ca')).json;
  t.equal(order.status, 'cancelled');
  t.equal(order.status_reason, 'Cancelled by the supplier: an item has been discontinued.');
  t.same(order.shipments, []);
  t.equal((await supplier.order('tt-ca')).sandbox.fate, 'cancelled');
});

t.test('fault holdNext: the order waits on hold until released by hand, or cancelled', async (t) => {
  const { api, supplier, receiver } = await startHarness(t, { delaysMs: IMMEDIATE });
  await supplier.addFaults({ holdNext: 2 });
  await api.create(orderBody('tt-h1'), 'k1');
  await receiver.waitFor(2);
  await sleep(100);
  t.same(receiver.types(), ['order.accepted', 'order.on_hold'], 'nothing more happens by itself');
  const held = (await api.get('@tt-h1')).json;
  t.same([held.status, held.status_reason], ['on_hold', 'On hold: a print file needs checking before production.']);
  await supplier.advance('tt-h1', 'in_production');
  await supplier.waitForOrder('tt-h1', (order) => order.status === 'delivered');

  await api.create(orderBody('tt-h2'), 'k2');
  await supplier.waitForOrder('tt-h2', (order) => order.status === 'on_hold');
  t.equal((await api.cancel('@tt-h2')).json.status, 'cancelled');
});

t.test('a webhook the receiver answered 500 is retried with backoff until accepted; one never accepted is given up', async (t) => {
  const { api, supplier, receiver } = await startHarness(t);
  receiver.failNext(2);
  await api.create(orderBody('tt-rt'), 'k1');
  const [delivered] = await receiver.waitFor(1);
  t.equal(delivered?.event.type, 'order.accepted');
  t.equal(receiver.refused.length, 2);
  t.equal(receiver.refused[0]?.body, delivered?.body, 'the same bytes every time, signed afresh');
  const [report] = await supplier.events();
  t.equal(report?.outcome, 'delivered');
  t.same(report?.attempts.map((a) => [a.attempt, a.status]), [[1, 500], [2, 500], [3, 204]]);
  const gaps = report?.attempts.slice(1).map((a, i) => Date.parse(a.at) - Date.parse(report.attempts[i]?.at ?? '')) ?? [];
  t.ok((gaps[0] ?? 0) >= 45 && (gaps[1] ?? 0) >= 95, `waits grow (${gaps.join(', ')} ms)`);

  receiver.failNext(100);
  await supplier.advance('tt-rt', 'in_production');
  const events = await supplier.waitForEvents((all) => all[1]?.outcome === 'failed');
  t.equal(events[1]?.attempts.length, 4, 'the first attempt and one per retry delay');
});

t.test('the control API refuses a bad fault or setting and then changes nothing', async (t) => {
  const { supplier } = await startHarness(t);
  const before = await supplier.faults();
  const cases: Array<[unknown, string]> = [
    [{ holdNext: 2, dropWebhooks: -1 }, 'dropWebhooks must be a whole number'],
    [{ explode: 1 }, 'Unknown fault: explode'],
    [{ fail5xx: { count: 1, rate: 0.5 } }, 'exactly one of count'],
    [{ fail5xx: { rate: 2 } }, 'fail5xx.rate must be a number from 0 to 1'],
    [{ fail5xx: { count: 1, status: 404 } }, 'fail5xx.status must be one of 500, 502, 503, 504'],
    [{ reject: { count: 1, code: 'too_expensive' } }, 'reject.code must be one of invalid_address, unknown_sku, out_of_stock'],
    [{ acceptThenTimeout: { count: 1, delayMs: 'long' } }, 'acceptThenTimeout.delayMs must be a whole number'],
  ];
  for (const [faults, message] of cases) {
    const error = await rejection(supplier.addFaults(faults as never));
    t.ok(error instanceof SupplierSandboxError, message);
    t.same([error.status, error.code], [400, 'validation_failed']);
    t.match(error.message, message);
  }
  t.same(await supplier.faults(), before);
  t.same(before, {
    fail5xx: null, rateLimit: null, reject: null, acceptThenTimeout: null, delayWebhooksMs: 0,
    duplicateWebhooks: 0, reorderWebhooks: 0, dropWebhooks: 0, holdNext: 0, failAfterAcceptance: 0, cancelAfterAcceptance: 0,
  });
  const settings = await supplier.settings();
  t.match((await rejection(supplier.configure({ webhookUrl: 'ftp://example.com/hook' }))).message, 'webhookUrl must be an http(s) URL');
  t.match((await rejection(supplier.configure({ delaysMs: { production: -1 } }))).message, 'delaysMs.production must be a whole number');
  t.match((await rejection(supplier.configure({ speed: 3 } as never))).message, 'Unknown setting: speed');
  t.same(await supplier.settings(), settings);
  t.equal((await rejection(supplier.resend('evt_missing'))).status, 404);
});

t.test('the page lists orders with their packages and recent webhooks, escaped', async (t) => {
  const { url, api, supplier } = await startHarness(t);
  await api.create(orderBody('tt-page', { recipient: { ...orderBody('x').recipient, name: '<script>alert(1)</script>' } }), 'k1');
  await supplier.split('tt-page');
  await supplier.advance('tt-page', 'partially_shipped');
  const page = await fetch(url);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), 'text/html');
  t.match(page.headers.get('content-security-policy'), "default-src 'none'");
  const html = await page.text();
  t.match(html, 'Supplier sandbox — nothing is made or shipped');
  t.match(html, 'tt-page');
  t.match(html, 'partially_shipped');
  t.match(html, '&lt;script&gt;alert(1)&lt;/script&gt;');
  t.notMatch(html, '<script>');
  const [shipment] = (await api.get('@tt-page')).json.shipments;
  t.match(html, `href="https://tracking.example.com/dhl/${shipment?.tracking_number}"`);
  t.match(html, '2 × TT-BLUE-M');
  t.match(html, 'order.shipment_created');
});
