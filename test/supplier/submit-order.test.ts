import t from 'tap';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { countRows, settle, supplierFlow, waitFor } from './supplier-harness.ts';

const year = new Date().getUTCFullYear();

t.test('a paid order is handed to the supplier once: one POST with the order\'s key, submitted, the supplier\'s id stored, every call audited', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 2 }, { productId: f.products.sticker, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');

  const calls = await f.supplierCalls();
  t.same(calls.map((c) => [c.method, c.path, c.status]), [['POST', '/v1/orders', 201]], 'one POST, no lookup before a first attempt');
  t.equal(calls[0]!.idempotencyKey, `tanktop-order-${orderId}-${number}-supplier`);
  const [remote] = await f.supplier.orders();
  t.match(remote, { external_id: number, status: 'pending', items: [{ sku: `TT-${f.products.mug}`, quantity: 2, name: 'Mug' }, { sku: `TT-${f.products.sticker}`, quantity: 1 }] });
  t.match(remote!.recipient, { name: 'Ann Buyer', address1: '1 High Street', zip: 'LS1 1AA', city: 'Leeds', country_code: 'GB', email: null });

  const { rows: [row] } = await f.pool.query(`select * from supplier_orders where order_id = $1`, [orderId]);
  t.match(row, { external_id: number, supplier_order_id: remote!.id, last_supplier_status: 'pending' });
  t.ok(row.submitted_at instanceof Date);
  const { rows: audit } = await f.pool.query(`select method, path, idempotency_key, status, error, duration_ms, source from supplier_calls where order_id = $1`, [orderId]);
  t.match(audit, [{ method: 'POST', path: '/orders', idempotency_key: `tanktop-order-${orderId}-${number}-supplier`, status: 201, error: null, source: /^job:/ }]);
  t.ok(audit[0].duration_ms >= 0);
  const { rows: history } = await f.pool.query(`select from_state, to_state from order_events where order_id = $1 and dimension = 'fulfilment' order by id`, [orderId]);
  t.same(history.map((h) => `${h.from_state}>${h.to_state}`), ['null>unfulfilled', 'unfulfilled>submitted']);
  await waitFor('the order.accepted webhook processed', () => f.eventsSettled(number));
  t.equal(await countRows(f, `select from webhook_events where provider = 'supplier' and outcome is not null`), 1);
  t.equal(await countRows(f, `select from alerts`), 0);
});

t.test('the supplier answers 500 twice, then accepts: a failed lookup does not spend the attempt, and the order is created once', async (t) => {
  const f = await supplierFlow(t);
  await f.supplier.addFaults({ fail5xx: { count: 2, status: 503 } });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted', 30_000);
  const calls = await f.supplierCalls();
  t.same(calls.map((c) => `${c.method} ${c.path} ${c.status}`), [
    'POST /v1/orders 503',
    `GET /v1/orders/@${number} 503`,
    'POST /v1/orders 201',
  ], 'attempt 1 POST fails; attempt 2 looks up, cannot tell, and POSTs with the same key');
  t.equal((await f.supplierPosts(number)).length, 2, 'exactly two POSTs');
  t.ok((await f.supplierPosts(number)).every((c) => c.idempotencyKey === `tanktop-order-${orderId}-${number}-supplier`), 'one key for every attempt');
  t.equal((await f.supplier.orders()).length, 1, 'one order at the supplier');
  t.equal(await countRows(f, `select from supplier_calls where order_id = $1`, [orderId]), 3, 'every call audited');
  const [job] = await f.boss.findJobs(SupplierQueues.submitOrder);
  t.match(job, { state: 'completed', retryCount: 1 }, 'two attempts');
  t.equal(await countRows(f, `select from alerts`), 0);
});

t.test('accepted, the answer lost, then the lookup fails too: the second POST gets the same order back, one order at the supplier', async (t) => {
  const f = await supplierFlow(t, { env: { SUPPLIER_TIMEOUT_MS: '1000' } });
  await f.supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 5000 }, dropWebhooks: 1 });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.tent, quantity: 1 }]);
  await waitFor('the first POST at the supplier', async () => (await f.supplierPosts(number)).length === 1);
  // The retry comes two seconds or more after the timeout: its lookup is the next call, and fails.
  await f.supplier.addFaults({ fail5xx: { count: 1, status: 502 } });
  await f.waitForFulfilment(orderId, 'submitted', 30_000);
  const { rows: audit } = await f.pool.query(`select method, status from supplier_calls where order_id = $1 order by id`, [orderId]);
  t.same(audit.map((c) => `${c.method} ${c.status}`), ['POST null', 'GET 502', 'POST 201']);
  const posts = await f.supplierPosts(number);
  t.same(posts.map((c) => c.replayed), [false, true], 'the second POST is answered with the first one\'s response: the order it created');
  t.equal((await f.supplier.orders()).length, 1, 'exactly one order at the supplier');
  const [remote] = await f.supplier.orders();
  t.equal((await f.pool.query(`select supplier_order_id from supplier_orders where order_id = $1`, [orderId])).rows[0].supplier_order_id, remote!.id);
});

t.test('a 429 is retried after its Retry-After, not sooner', async (t) => {
  const f = await supplierFlow(t);
  await f.supplier.addFaults({ rateLimit: { count: 1, retryAfterSeconds: 3 } });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted', 30_000);
  const calls = await f.supplierCalls();
  t.same(calls.map((c) => `${c.method} ${c.path} ${c.status}`), ['POST /v1/orders 429', `GET /v1/orders/@${number} 404`, 'POST /v1/orders 201']);
  const waited = Date.parse(calls[1]!.at) - Date.parse(calls[0]!.at);
  t.ok(waited >= 3000, `the next attempt came ${waited} ms after the 429 (Retry-After: 3)`);
  t.equal((await f.supplier.orders()).length, 1);
  const jobs = await f.boss.findJobs(SupplierQueues.submitOrder);
  t.same(jobs.map((j) => j.state).sort(), ['completed', 'completed'], 'the rate-limited job completed and its successor sent the order');
});

t.test('an order created at the supplier whose answer never came: the retry finds it by external_id and does not POST again', async (t) => {
  const f = await supplierFlow(t, { env: { SUPPLIER_TIMEOUT_MS: '1000' } });
  // The supplier's webhooks are held back, so only the lookup can tell us.
  await f.supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 5000 }, dropWebhooks: 1 });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.tent, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted', 30_000);
  const calls = await f.supplierCalls();
  t.same(calls.map((c) => `${c.method} ${c.path} ${c.status}`), ['POST /v1/orders null', `GET /v1/orders/@${number} 200`]);
  t.equal((await f.supplier.orders()).length, 1, 'exactly one order at the supplier');
  const [remote] = await f.supplier.orders();
  t.equal((await f.pool.query(`select supplier_order_id from supplier_orders where order_id = $1`, [orderId])).rows[0].supplier_order_id, remote!.id);
  const { rows: audit } = await f.pool.query(`select method, status, error from supplier_calls where order_id = $1 order by id`, [orderId]);
  t.match(audit, [{ method: 'POST', status: null, error: /no answer within 1000 ms/ }, { method: 'GET', status: 200 }]);
});

t.test('three failed attempts: supplier_failed, the job in its dead-letter queue, one alert', async (t) => {
  const f = await supplierFlow(t);
  await f.supplier.addFaults({ fail5xx: { count: 5, status: 500 } });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'supplier_failed', 40_000);
  await waitFor('the job in its dead-letter queue', async () => (await f.boss.findJobs(`${SupplierQueues.submitOrder}__dead_letter`)).length === 1);
  const calls = await f.supplierCalls();
  t.same(calls.map((c) => `${c.method} ${c.status}`), ['POST 500', 'GET 500', 'POST 500', 'GET 500', 'POST 500'], 'three attempts, each a POST (the retries after a failed lookup)');
  const [job] = await f.boss.findJobs(SupplierQueues.submitOrder);
  t.match(job, { state: 'failed', retryCount: 2 });
  await settle(2000);
  const alerts = await f.alerts();
  t.same(alerts.map((a) => [a.incident_key, a.severity, a.order_id]), [[`supplier_failed:${orderId}`, 'critical', orderId]], 'one alert, and no second one for the dead letter');
  t.match(alerts[0]!.title, number);
  t.notMatch(alerts[0]!.text, /@/, 'no e-mail address in the alert');
  t.equal((await f.supplier.orders()).length, 0);
  t.equal(await f.payment(orderId), 'paid', 'no refund: an operator resubmits or cancels');
});

t.test('the supplier rejects the order: supplier_rejected with its reason, an alert, an e-mail to the customer, the refund and its credit note', async (t) => {
  const f = await supplierFlow(t);
  await f.supplier.addFaults({ reject: { count: 1, code: 'out_of_stock' } });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'supplier_rejected');
  await f.waitForPayment(orderId, 'refunded');
  t.same((await f.supplierCalls()).map((c) => `${c.method} ${c.status}`), ['POST 422'], 'not retried');
  const { rows: [row] } = await f.pool.query(`select rejection_code, rejection_reason from supplier_orders where order_id = $1`, [orderId]);
  t.match(row, { rejection_code: 'out_of_stock', rejection_reason: /out of stock/ });
  const refunds = (await f.gateway.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
  t.equal(refunds.length, 1, 'one refund at the gateway');
  const { rows: notes } = await f.pool.query(`select number, snapshot from invoices where order_id = $1 and kind = 'credit_note'`, [orderId]);
  t.equal(notes.length, 1);
  t.equal(notes[0].number, `CN-${year}-000001`);
  const mail = await waitFor('the invoice, the apology and the credit note', async () => {
    const messages = await f.mailTo(orderId);
    return messages.length >= 3 ? messages : undefined;
  });
  await settle();
  t.equal((await f.mailTo(orderId)).length, 3);
  t.ok(mail.some((m) => /cannot fulfil your order/.test(m.subject) && /refunding the full amount of 12.50 EUR/.test(m.text ?? '')), 'the apology says the money comes back');
  t.ok(mail.some((m) => m.subject.includes(`CN-${year}-000001`)), 'the credit note');
  const alerts = await f.alerts();
  t.same(alerts.map((a) => a.incident_key), [`supplier_rejected:${orderId}`]);
  t.match(alerts[0]!.title, 'out_of_stock');
});
