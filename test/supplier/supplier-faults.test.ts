import t from 'tap';
import { ALERT_SEND_QUEUE } from '../../src/alerts/alerts.queues.ts';
import { submitOrderJob } from '../../src/supplier/jobs/submit-order.job.ts';
import { applyPaymentSuccess } from '../../src/orders/payment.service.ts';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { supplierClientFrom } from '../../src/supplier/supplier-workers.ts';
import { testLog } from '../helpers/database.ts';
import { insertOrder } from '../helpers/order-fixtures.ts';
import { countRows, settle, spawnWorker, supplierFlow, waitFor } from './supplier-harness.ts';

t.test('the worker killed in the middle of a supplier call and started again: exactly one order at the supplier', async (t) => {
  const f = await supplierFlow(t, { workers: false, env: { SUPPLIER_TIMEOUT_MS: '25000' } });
  // The order is created, its answer held; its webhook is lost: only a lookup can tell.
  await f.supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 60_000 }, dropWebhooks: 1 });
  const first = await spawnWorker(t, f);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 3 }]);
  await waitFor('the order created at the supplier', async () => (await f.supplier.orders()).length === 1);
  t.equal(await f.fulfilment(orderId), 'unfulfilled', 'the worker is still waiting for the answer');
  first.child.kill('SIGKILL');
  t.match(await first.exited, { signal: 'SIGKILL' });

  const second = await spawnWorker(t, f);
  // The killed worker's job is retried once its heartbeats are missed (15 s).
  await f.waitForFulfilment(orderId, 'submitted', 90_000);
  t.equal((await f.supplier.orders()).length, 1, 'one order at the supplier');
  t.same((await f.supplierCalls()).map((c) => `${c.method} ${c.path} ${c.status}`), ['POST /v1/orders null', `GET /v1/orders/@${number} 200`], 'one POST; the retry looked it up');
  const { rows: audit } = await f.pool.query(`select method, status, finished_at from supplier_calls where order_id = $1 order by id`, [orderId]);
  t.match(audit, [{ method: 'POST', status: null, finished_at: null }, { method: 'GET', status: 200 }], 'the interrupted call stays on record');
  const [job] = await f.boss.findJobs(SupplierQueues.submitOrder);
  t.match(job, { state: 'completed', retryCount: 1 });
  second.child.kill('SIGTERM');
  t.match(await second.exited, { code: 0 }, second.stderr());
});

t.test('a submit job that outlives its expiry runs twice: still one order at the supplier', async (t) => {
  const f = await supplierFlow(t, { env: { SUPPLIER_TIMEOUT_MS: '6000' } });
  // pg-boss starts a second copy of a job running past its expiry, while the first still runs.
  await f.boss.updateQueue(SupplierQueues.submitOrder, { expireInSeconds: 1 });
  await f.supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 8000 }, dropWebhooks: 1 });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.sticker, quantity: 2 }]);
  await f.waitForFulfilment(orderId, 'submitted', 30_000);
  t.equal((await f.supplier.orders()).length, 1, 'one order at the supplier');
  t.equal((await f.supplierPosts(number)).length, 1, 'the second copy looked it up instead of posting');
  await settle(7000);
  t.equal((await f.supplier.orders()).length, 1, 'the first copy, timing out at last, created nothing more');
  t.equal(await f.fulfilment(orderId), 'submitted');
  t.equal(await countRows(f, `select from order_events where order_id = $1 and to_state = 'submitted'`, [orderId]), 1);
});

t.test('two copies of a submit job running at the same moment: one order at the supplier, submitted once', async (t) => {
  const f = await supplierFlow(t, { workers: false });
  // Paid straight through the payment service: its submit job waits, unworked, and the test runs two copies by hand.
  const orderId = await insertOrder(f.pool, { productId: f.products.tent, quantity: 1 });
  const number = (await f.pool.query(`select number from orders where id = $1`, [orderId])).rows[0].number as string;
  const outcome = await f.db.transaction().execute((trx) => applyPaymentSuccess(trx, { boss: f.boss, orders: f.config.orders, log: testLog }, {
    orderId, providerPaymentId: `pi_test_${orderId}`, paymentIntentId: `pi_test_${orderId}`, amountMinor: 10_000, currency: 'eur', raw: {}, source: 'test',
  }));
  t.equal(outcome, 'paid');
  t.equal((await f.boss.findJobs(SupplierQueues.submitOrder)).length, 1, 'the submit job was enqueued with the payment');
  const client = supplierClientFrom(f.config, f.db, testLog)!;
  const handler = submitOrderJob({ db: f.db, boss: f.boss, config: f.config, log: testLog, client });
  const context = (jobId: string) => ({ jobId, queue: SupplierQueues.submitOrder, retryCount: 0, log: testLog });
  const results = await Promise.all([handler({ orderId }, context('copy-a')), handler({ orderId }, context('copy-b'))]);
  t.equal((await f.supplier.orders()).length, 1, 'one order at the supplier');
  const posts = await f.supplierPosts(number);
  t.ok(posts.length >= 1 && posts.length <= 2, `${posts.length} POSTs`);
  t.ok(posts.slice(1).every((post) => post.replayed || post.status === 409), 'a second POST was answered with the first order');
  t.ok(posts.every((post) => post.idempotencyKey === `tanktop-order-${orderId}-${number}-supplier`));
  t.equal(await f.fulfilment(orderId), 'submitted');
  t.equal(await countRows(f, `select from order_events where order_id = $1 and to_state = 'submitted'`, [orderId]), 1, 'submitted once');
  t.ok(results.every((result) => typeof result === 'string'), String(results));
});

t.test('the alert channel down: orders keep flowing, the alert waits and is delivered once the channel is back', async (t) => {
  const f = await supplierFlow(t);
  await f.boss.updateQueue(ALERT_SEND_QUEUE, { retryDelay: 1, retryBackoff: true, retryDelayMax: 1 });
  const channel = new URL(f.alertUrl).origin;
  const faults = (body: object) => fetch(`${channel}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  t.equal((await faults({ down: true })).status, 200);

  await f.supplier.addFaults({ reject: { count: 1, code: 'invalid_address' } });
  const rejected = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  const others = [await f.paidOrder([{ productId: f.products.sticker, quantity: 1 }]), await f.paidOrder([{ productId: f.products.tent, quantity: 1 }])];
  await f.waitForFulfilment(rejected.orderId, 'supplier_rejected');
  for (const order of others) {
    await f.waitForFulfilment(order.orderId, 'submitted');
    await f.supplier.advance(order.number, 'delivered');
  }
  for (const order of others) await f.waitForFulfilment(order.orderId, 'delivered');
  await f.waitForPayment(rejected.orderId, 'refunded');
  await waitFor('the alert tried and failed at least once', async () => (await f.boss.findJobs(ALERT_SEND_QUEUE)).some((job) => job.retryCount > 0));
  const [alert] = await f.alerts();
  t.match(alert, { incident_key: `supplier_rejected:${rejected.orderId}` });
  t.not(alert!.status, 'sent', 'not delivered while the channel is down');
  t.same((await (await fetch(`${channel}/api/messages`)).json() as unknown[]).length, 0);

  t.equal((await faults({ down: false })).status, 200);
  await waitFor('the alert delivered', async () => (await f.alerts())[0]?.status === 'sent', 30_000);
  const messages = await (await fetch(`${channel}/api/messages`)).json() as { text: string | null }[];
  t.equal(messages.length, 1, 'one message');
  t.equal((await f.alerts()).length, 1);
});
