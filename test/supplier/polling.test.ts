import t from 'tap';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { countRows, settle, supplierFlow, waitFor, type SupplierFlow } from './supplier-harness.ts';

/** One run of the scheduled poll (the worker's queue), waited for; returns the supplier calls it made. */
async function poll(f: SupplierFlow, olderThanSeconds = 0): Promise<string[]> {
  const before = (await f.supplierCalls()).length;
  const id = await f.boss.send(SupplierQueues.pollOrders, { olderThanSeconds });
  await waitFor('the poll job done', async () => (await f.boss.findJobs(SupplierQueues.pollOrders, { id: id! }))[0]?.state === 'completed');
  return (await f.supplierCalls()).slice(before).map((c) => `${c.method} ${c.path} ${c.status}`);
}

t.test('webhooks that never came: polling asks the supplier and brings the order to delivered through the webhooks\' code, each e-mail once', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 2 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  await waitFor('order.accepted processed', () => f.eventsSettled(number));
  await f.supplier.addFaults({ dropWebhooks: 10 });
  await f.supplier.split(number, 2);
  await f.supplier.advance(number, 'delivered');
  await settle(1000);
  t.equal(await f.fulfilment(orderId), 'submitted', 'no news came');

  t.same(await poll(f, 3600), [], 'an order that moved within the threshold is not asked about');
  t.same(await poll(f), [`GET /v1/orders/@${number} 200`], 'one lookup');
  t.equal(await f.fulfilment(orderId), 'delivered');
  t.equal(await countRows(f, `select from shipments where order_id = $1`, [orderId]), 2);
  const { rows: [polled] } = await f.pool.query(`select last_polled_at, last_supplier_status from supplier_orders where order_id = $1`, [orderId]);
  t.ok(polled.last_polled_at instanceof Date);
  t.equal(polled.last_supplier_status, 'delivered');
  const { rows: history } = await f.pool.query(`select to_state, source from order_events where order_id = $1 and dimension = 'fulfilment' order by id`, [orderId]);
  t.same(history.map((h) => h.to_state), ['unfulfilled', 'submitted', 'in_production', 'shipped', 'delivered']);
  t.ok(history.slice(2).every((h) => /^poll:/.test(h.source)), 'the poll moved it');

  // The lost webhooks turn up after all: nothing changes, nothing is sent twice.
  for (const event of await f.supplier.events()) if (event.outcome === 'dropped') await f.supplier.resend(event.id);
  await f.supplier.waitForEvents((events) => events.every((e) => e.outcome === 'delivered'), 10_000);
  await waitFor('the late webhooks processed', () => f.eventsSettled(number));
  await settle();
  t.equal(await f.fulfilment(orderId), 'delivered');
  const mail = await f.mailTo(orderId);
  t.equal(mail.filter((m) => /on its way/.test(m.subject)).length, 2, 'one shipping e-mail per package');
  t.equal(mail.filter((m) => /delivered/.test(m.subject)).length, 1, 'one delivery e-mail');
  t.equal(mail.length, 4);

  t.same(await poll(f), [], 'a delivered order is not asked about again');
});

t.test('polling leaves alone what it need not ask about, and one order\'s failure does not stop the others', async (t) => {
  const f = await supplierFlow(t);
  const a = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  const b = await f.paidOrder([{ productId: f.products.sticker, quantity: 1 }]);
  await f.waitForFulfilment(a.orderId, 'submitted');
  await f.waitForFulfilment(b.orderId, 'submitted');
  await f.supplier.addFaults({ dropWebhooks: 10 });
  await f.supplier.advance(a.number, 'in_production');
  await f.supplier.advance(b.number, 'in_production');
  await f.supplier.addFaults({ fail5xx: { count: 1 } });
  const calls = await poll(f);
  t.same(calls.map((c) => c.replace(/@TT-\S+/, '@…')), ['GET /v1/orders/@… 500', 'GET /v1/orders/@… 200'], 'the first lookup failed, the second went on');
  t.same([await f.fulfilment(a.orderId), await f.fulfilment(b.orderId)].sort(), ['in_production', 'submitted']);
  t.same((await poll(f)).length, 2, 'the next run asks again (a threshold of 0 takes every order on its way)');
  t.same([await f.fulfilment(a.orderId), await f.fulfilment(b.orderId)], ['in_production', 'in_production']);
});

t.test('a supplier webhook stored but never processed gets its job again', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  // Settled means none waiting: first wait for the webhook to have arrived at all.
  await waitFor('order.accepted processed', async () => await countRows(f, `select from webhook_events where provider = 'supplier'`) > 0 && f.eventsSettled(number));
  // A row a process without a job queue stored (or whose job was lost), old enough to be swept.
  const { rows: [event] } = await f.pool.query(`select payload from webhook_events where provider = 'supplier' limit 1`);
  const order = { ...event.payload.data.order, status: 'in_production', updated: new Date(Date.now() + 1000).toISOString() };
  await f.pool.query(`insert into webhook_events (provider, event_id, type, payload, received_at) values ('supplier', 'evt_orphan', 'order.in_production', $1, now() - interval '2 minutes')`,
    [JSON.stringify({ id: 'evt_orphan', type: 'order.in_production', created: order.updated, data: { order } })]);
  t.same(await poll(f, 3600), [], 'no order to ask about');
  await f.waitForFulfilment(orderId, 'in_production');
  t.match((await f.pool.query(`select outcome from webhook_events where event_id = 'evt_orphan'`)).rows[0], { outcome: 'in_production' });
});
