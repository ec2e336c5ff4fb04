import t from 'tap';
import { webhookRejects } from '../../src/metrics/webhook-rejects.ts';
import type { SupplierEvent, SupplierOrder } from '../../src/supplier/supplier-api.types.ts';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { supplierSignatureHeader } from '../../src/supplier/supplier-webhook-signature.ts';
import { countRows, settle, SUPPLIER_SECRET, supplierFlow, waitFor, type SupplierFlow } from './supplier-harness.ts';

async function history(f: SupplierFlow, orderId: string): Promise<string[]> {
  const { rows } = await f.pool.query(`select from_state, to_state from order_events where order_id = $1 and dimension = 'fulfilment' order by id`, [orderId]);
  return rows.map((r) => `${r.from_state}>${r.to_state}`);
}

/** A supplier event of our own making, signed as the supplier signs (or not). */
function deliver(f: SupplierFlow, event: unknown, headers: Record<string, string> | ((body: string) => Record<string, string>) = (body) => ({ 'supplier-signature': supplierSignatureHeader(SUPPLIER_SECRET, body) })) {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  return f.app.inject({
    method: 'POST', url: '/webhooks/supplier', payload: body,
    headers: { 'content-type': 'application/json; charset=utf-8', ...(typeof headers === 'function' ? headers(body) : headers) },
  });
}

async function rejects(): Promise<Record<string, number>> {
  const { values } = await webhookRejects.get();
  return Object.fromEntries(values.filter((v) => v.labels.provider === 'supplier').map((v) => [String(v.labels.reason), v.value]));
}

t.test('the whole way to delivery in two packages: partially shipped, then shipped, two shipping e-mails with tracking, one delivery e-mail', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 2 }, { productId: f.products.sticker, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  await f.supplier.split(number, 2);

  await f.supplier.advance(number, 'partially_shipped');
  await f.waitForFulfilment(orderId, 'partially_shipped');
  await waitFor('the first shipping e-mail', async () => (await f.mailTo(orderId)).some((m) => /on its way/.test(m.subject)));
  const [first] = (await f.supplier.order(number)).shipments;
  t.match(await f.pool.query(`select supplier_shipment_id, carrier, service, tracking_number, tracking_url, items from shipments where order_id = $1`, [orderId]).then((r) => r.rows), [{
    supplier_shipment_id: first!.id, carrier: first!.carrier, service: first!.service, tracking_number: first!.tracking_number, tracking_url: first!.tracking_url,
    items: [{ sku: `TT-${f.products.mug}`, quantity: 2 }],
  }]);

  await f.supplier.advance(number, 'shipped');
  await f.waitForFulfilment(orderId, 'shipped');
  await f.supplier.advance(number, 'delivered');
  await f.waitForFulfilment(orderId, 'delivered');
  await waitFor('the delivery e-mail', async () => (await f.mailTo(orderId)).some((m) => /delivered/.test(m.subject)));
  await waitFor('every webhook processed', () => f.eventsSettled(number));
  await settle();

  const remote = await f.supplier.order(number);
  t.equal(remote.shipments.length, 2);
  t.equal(await countRows(f, `select from shipments where order_id = $1`, [orderId]), 2, 'one row per package');
  t.equal(await countRows(f, `select from shipments where order_id = $1 and delivered_at is not null`, [orderId]), 2);
  const mail = await f.mailTo(orderId);
  const shipping = mail.filter((m) => /on its way/.test(m.subject));
  t.equal(shipping.length, 2, 'one e-mail per package');
  for (const shipment of remote.shipments) {
    const message = shipping.find((m) => (m.text ?? '').includes(shipment.tracking_number));
    t.ok(message, `an e-mail with the tracking number of ${shipment.id}`);
    t.match(message?.text, shipment.carrier);
    t.match(message?.text, shipment.tracking_url);
  }
  t.ok(shipping.every((m) => /part of it/.test(m.subject)), 'each package is part of the order');
  t.equal(mail.filter((m) => /delivered/.test(m.subject)).length, 1, 'one delivery e-mail');
  t.equal(mail.length, 4, 'the invoice, two shipping e-mails, the delivery e-mail');
  t.same(await history(f, orderId), ['null>unfulfilled', 'unfulfilled>submitted', 'submitted>in_production', 'in_production>partially_shipped', 'partially_shipped>shipped', 'shipped>delivered']);
  t.equal((await f.supplierPosts(number)).length, 1, 'one POST');
  t.equal((await f.supplier.orders()).length, 1, 'one order at the supplier');
  t.match((await f.pool.query(`select last_supplier_status from supplier_orders where order_id = $1`, [orderId])).rows[0], { last_supplier_status: 'delivered' });
  t.same(await f.alerts(), []);
});

t.test('every webhook delivered twice, and the last ones first: the order ends delivered, each e-mail once', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.tent, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  await waitFor('order.accepted processed', () => f.eventsSettled(number));
  // in_production, shipment_created, shipped, delivered: each sent twice, held, then sent newest first.
  await f.supplier.addFaults({ duplicateWebhooks: 4, reorderWebhooks: 4 });
  await f.supplier.advance(number, 'delivered');
  const events = await f.supplier.waitForEvents((all) => all.length === 5 && all.every((e) => e.outcome === 'delivered'), 15_000);
  t.ok(events.slice(1).every((e) => e.attempts.length >= 2), 'the sandbox delivered each twice');
  await f.waitForFulfilment(orderId, 'delivered');
  await waitFor('every webhook processed', () => f.eventsSettled(number));
  await settle();

  t.equal(await countRows(f, `select from webhook_events where provider = 'supplier'`), 5, 'each event stored once');
  const { rows } = await f.pool.query(`select type, outcome from webhook_events where provider = 'supplier' order by id`);
  t.same(rows.map((r) => r.type), ['order.accepted', 'order.delivered', 'order.shipped', 'order.shipment_created', 'order.in_production'], 'the newest arrived first');
  t.same(rows.slice(2).map((r) => r.outcome), ['no_change', 'no_change', 'no_change'], 'the late ones change nothing');
  t.same(await history(f, orderId), ['null>unfulfilled', 'unfulfilled>submitted', 'submitted>in_production', 'in_production>shipped', 'shipped>delivered'],
    'the delivery walked the order forward one allowed step at a time');
  const mail = await f.mailTo(orderId);
  t.equal(mail.filter((m) => /on its way/.test(m.subject)).length, 1, 'one shipping e-mail');
  t.notMatch(mail.find((m) => /on its way/.test(m.subject))?.subject, /part of it/);
  t.equal(mail.filter((m) => /delivered/.test(m.subject)).length, 1, 'one delivery e-mail');
  t.equal(await countRows(f, `select from shipments`), 1);
});

t.test('a late "shipped" or "in transit" after delivery changes nothing', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  await f.supplier.advance(number, 'shipped');
  await f.waitForFulfilment(orderId, 'shipped');
  const shippedSnapshot = (await f.supplier.order(number)) as SupplierOrder;
  await f.supplier.advance(number, 'delivered');
  await f.waitForFulfilment(orderId, 'delivered');
  await waitFor('every webhook processed', () => f.eventsSettled(number));
  await settle();
  const mailBefore = (await f.mailTo(orderId)).length;
  const eventsBefore = await history(f, orderId);

  for (const type of ['order.shipped', 'order.in_transit']) {
    const late: SupplierEvent = { id: `evt_late_${type}`, type, created: new Date().toISOString(), data: { order: { ...shippedSnapshot, status: 'shipped' } } };
    t.equal((await deliver(f, late)).statusCode, 200);
  }
  await waitFor('the late events processed', async () => await countRows(f, `select from webhook_events where event_id like 'evt_late_%' and processed_at is not null`) === 2);
  t.same((await f.pool.query(`select outcome from webhook_events where event_id like 'evt_late_%'`)).rows.map((r) => r.outcome), ['no_change', 'no_change']);
  t.equal(await f.fulfilment(orderId), 'delivered');
  t.same(await history(f, orderId), eventsBefore, 'no transition');
  t.match((await f.pool.query(`select last_supplier_status from supplier_orders where order_id = $1`, [orderId])).rows[0], { last_supplier_status: 'delivered' }, 'an older snapshot does not overwrite the status');
  await settle();
  t.equal((await f.mailTo(orderId)).length, mailBefore, 'no e-mail');
});

t.test('forged, stale, unsigned, oversized and malformed webhooks are refused and counted; a duplicate is acknowledged and stored once', async (t) => {
  const f = await supplierFlow(t, { workers: false });
  const before = await rejects();
  const order = { id: 'ord_x', external_id: 'TT-NONE-0001', status: 'pending', status_reason: null, items: [], shipments: [], created: new Date().toISOString(), updated: new Date().toISOString() };
  const event = { id: 'evt_test_1', type: 'order.accepted', created: new Date().toISOString(), data: { order } };

  t.equal((await deliver(f, event, {})).statusCode, 400, 'unsigned');
  t.equal((await deliver(f, event, (body) => ({ 'supplier-signature': supplierSignatureHeader('another_secret', body) }))).statusCode, 400, 'forged');
  t.equal((await deliver(f, event, (body) => ({ 'supplier-signature': supplierSignatureHeader(SUPPLIER_SECRET, `${body} `) }))).statusCode, 400, 'signed for another body');
  const stale = await deliver(f, event, (body) => ({ 'supplier-signature': supplierSignatureHeader(SUPPLIER_SECRET, body, Math.floor(Date.now() / 1000) - 400) }));
  t.equal(stale.statusCode, 400, 'stale');
  t.match(stale.body, /more than 300 seconds/);
  const ahead = await deliver(f, event, (body) => ({ 'supplier-signature': supplierSignatureHeader(SUPPLIER_SECRET, body, Math.floor(Date.now() / 1000) + 400) }));
  t.equal(ahead.statusCode, 400, 'dated ahead');
  t.equal((await deliver(f, 'x'.repeat(300 * 1024))).statusCode, 413, 'too large');
  t.equal((await deliver(f, '')).statusCode, 400, 'empty');
  t.equal(await countRows(f, `select from webhook_events`), 0, 'nothing stored');
  const signedButNoEvent = await deliver(f, { hello: 'world' });
  t.same([signedButNoEvent.statusCode, signedButNoEvent.json().refused], [200, 'the event has no usable id and type (strings of 1 to 255 characters)'],
    'signed, but not an event: acknowledged (the supplier resends any non-2xx) and stored as refused');
  t.equal(await countRows(f, `select from webhook_events where outcome = 'refused' and processed_at is not null`), 1);
  const after = await rejects();
  t.same(Object.fromEntries(Object.keys(after).map((reason) => [reason, after[reason]! - (before[reason] ?? 0)])),
    { bad_signature: 3, stale: 2, too_large: 1, bad_payload: 1, malformed: 1 });

  const first = await deliver(f, event);
  const second = await deliver(f, event);
  t.same([first.statusCode, second.statusCode], [200, 200]);
  t.same([first.json().duplicate, second.json().duplicate], [false, true]);
  t.equal(await countRows(f, `select from webhook_events where provider = 'supplier' and event_id = 'evt_test_1'`), 1);
  t.equal((await f.boss.findJobs(SupplierQueues.processEvent)).length, 1, 'one job, none for the refused event');
});

t.test('a webhook about an order we do not know is stored, marked processed with a note, alerted once, and not retried', async (t) => {
  const f = await supplierFlow(t);
  // Someone else's order at the supplier (another shop on the same account, a test in the wrong place).
  const created = await fetch(`${f.supplierUrl}/v1/orders`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-supplier-token', 'content-type': 'application/json', 'idempotency-key': 'not-ours-1' },
    body: JSON.stringify({
      external_id: 'NOT-OURS-1',
      recipient: { name: 'Someone', address1: '1 Road', city: 'Leeds', zip: 'LS1', country_code: 'GB' },
      items: [{ sku: 'X-1', quantity: 1, name: 'X' }],
    }),
  });
  t.equal(created.status, 201);
  await f.supplier.advance('NOT-OURS-1', 'in_production');
  await waitFor('both events processed', async () => await countRows(f, `select from webhook_events where provider = 'supplier' and processed_at is not null`) === 2);
  const { rows } = await f.pool.query(`select type, outcome, processing_error from webhook_events order by id`);
  t.match(rows, [
    { type: 'order.accepted', outcome: 'unknown_order', processing_error: /no order of ours has external_id NOT-OURS-1/ },
    { type: 'order.in_production', outcome: 'unknown_order' },
  ]);
  await settle();
  const alerts = await f.alerts();
  t.same(alerts.map((a) => [a.incident_key, a.occurrences]), [['unknown_supplier_order:NOT-OURS-1', 2]], 'one alert (raised twice)');
  const jobs = await f.boss.findJobs(SupplierQueues.processEvent);
  t.same(jobs.map((j) => [j.state, j.retryCount]), [['completed', 0], ['completed', 0]], 'no retries');
  t.equal((await f.supplier.events()).every((e) => e.outcome === 'delivered'), true, 'the supplier got its 200s');
});

t.test('signed supplier events the workflow cannot apply are stored as refused, acknowledged and alerted; no job runs them', async (t) => {
  const f = await supplierFlow(t, { workers: false });
  const now = new Date().toISOString();
  const order = { id: 'ord_y', external_id: 'TT-NONE-0002', status: 'shipped', status_reason: null, items: [{ sku: 'A', quantity: 1 }], shipments: [], created: now, updated: now };
  const shipment = { id: 'shp_1', carrier: 'DHL', service: 'Parcel', tracking_number: '1', tracking_url: 'https://t.test/1', items: [{ sku: 'A', quantity: 1 }], shipped_at: now, delivered_at: null };
  const cases: [unknown, string][] = [
    [{ id: 'evt_r1', type: 'order.shipped' }, 'data is missing or not an object'],
    [{ id: 'evt_r2', type: 'order.shipped', data: { order: { ...order, status: 'teleported' } } }, 'data.order.status is not a supplier status'],
    [{ id: 'evt_r3', type: 'order.shipment_created', data: { order, shipment: { ...shipment, shipped_at: '2026-02-30T10:00:00Z' } } }, 'data.shipment.shipped_at is not a UTC timestamp'],
    [{ id: 'evt_r4', type: 'order.shipped', data: { order: { ...order, shipments: [{ ...shipment, items: [{ sku: 'A', quantity: 'one' }] }] } } }, 'data.order.shipments[0].items[0] is not an item with a sku and a quantity'],
    [{ id: 'evt_r5', type: 'order.shipped', data: { order: { ...order, items: null } } }, 'data.order.items is not a list'],
  ];
  for (const [event, reason] of cases) {
    const response = await deliver(f, event);
    t.same([response.statusCode, response.json().refused], [200, reason], reason);
  }
  const { rows } = await f.pool.query(`select event_id, outcome, refused_reason from webhook_events order by id`);
  t.same(rows.map((r) => [r.event_id, r.outcome, r.refused_reason]), cases.map(([event, reason], i) => [`evt_r${i + 1}`, 'refused', reason]));
  t.equal((await f.boss.findJobs(SupplierQueues.processEvent)).length, 0, 'no job');
  const { rows: alerts } = await f.pool.query(`select incident_key, occurrences from alerts`);
  t.same(alerts, [{ incident_key: 'webhook_refused:supplier', occurrences: cases.length }], 'one incident, raised for each');
});

t.test('a signed supplier event with NUL in its strings is stored with U+FFFD in their place and applied', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  const remote = await f.supplier.order(number) as SupplierOrder;
  const now = new Date(Date.now() + 1000).toISOString();
  const event: SupplierEvent = { id: 'evt_nul_1', type: 'order.on_hold', created: now, data: { order: { ...remote, status: 'on_hold', status_reason: 'address\u0000unclear', updated: now } } };
  const response = await deliver(f, event);
  t.same([response.statusCode, response.json()], [200, { received: true, duplicate: false }]);
  await waitFor('the event processed', async () => await countRows(f, `select from webhook_events where event_id = 'evt_nul_1' and processed_at is not null`) === 1);
  const { rows: [row] } = await f.pool.query(`select payload -> 'data' -> 'order' ->> 'status_reason' as reason, raw_body is not null as kept, refused_reason, processing_error from webhook_events where event_id = 'evt_nul_1'`);
  t.same(row, { reason: 'address\ufffdunclear', kept: true, refused_reason: null, processing_error: null });
  const { rows: [supplier] } = await f.pool.query(`select last_supplier_status, supplier_status_reason from supplier_orders where order_id = $1`, [orderId]);
  t.same(supplier, { last_supplier_status: 'on_hold', supplier_status_reason: 'address\ufffdunclear' }, 'applied, the text storable');
});
