import t from 'tap';
import { HttpError } from '../../src/http/http-error.ts';
import { cancelOrder, refundOrder, resubmitToSupplier, type SupplierActionDeps } from '../../src/supplier/supplier-actions.ts';
import { testLog } from '../helpers/database.ts';
import { countRows, settle, supplierFlow, waitFor, type SupplierFlow } from './supplier-harness.ts';

const year = new Date().getUTCFullYear();
const actor = { actor: 'ops:ann' };

function deps(f: SupplierFlow): SupplierActionDeps {
  return { db: f.db, boss: f.boss, config: f.config, log: testLog };
}

async function events(f: SupplierFlow, orderId: string): Promise<string[]> {
  const { rows } = await f.pool.query(`select dimension, from_state, to_state, source from order_events where order_id = $1 and source = 'ops:ann' order by id`, [orderId]);
  return rows.map((r) => `${r.dimension}:${r.from_state}>${r.to_state}`);
}

t.test('an operator cancels an order the supplier has not started: the supplier cancels it, the customer is refunded with a credit note; again changes nothing', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  await waitFor('order.accepted processed', () => f.eventsSettled(number));

  t.equal(await cancelOrder(deps(f), orderId, actor), 'cancelled');
  t.equal((await f.supplier.order(number)).status, 'cancelled', 'cancelled at the supplier');
  t.same((await f.supplierCalls({ method: 'POST' })).map((c) => [c.path, c.status]), [['/v1/orders', 201], [`/v1/orders/@${number}/cancel`, 200]]);
  await f.waitForPayment(orderId, 'refunded');
  t.equal(await f.fulfilment(orderId), 'cancelled');
  t.same(await events(f, orderId), ['fulfilment:submitted>cancelled', 'payment:paid>refund_pending'], 'recorded as the operator\'s');
  await waitFor('the supplier\'s confirmation processed', () => f.eventsSettled(number));
  t.equal(await cancelOrder(deps(f), orderId, actor), 'already_cancelled', 'a second press');
  t.equal((await f.supplierCalls({ method: 'POST' })).length, 2, 'no second cancel call');
  const mail = await waitFor('the credit note e-mail', async () => {
    const messages = await f.mailTo(orderId);
    return messages.some((m) => m.subject.includes(`CN-${year}-000001`)) ? messages : undefined;
  });
  await settle();
  t.equal((await f.mailTo(orderId)).length, 2, 'the invoice and the credit note: no "the supplier cancelled" apology for our own cancellation');
  t.notOk(mail.some((m) => /was cancelled/.test(m.subject)));
  t.equal((await f.gateway.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds').length, 1, 'one refund');
  t.equal(await countRows(f, `select from invoices where order_id = $1 and kind = 'credit_note'`, [orderId]), 1);
  t.same(await f.alerts(), [], 'our own cancellation is no incident');
});

t.test('cancelling is refused once the supplier is producing, here or only at the supplier so far: nothing changes', async (t) => {
  const f = await supplierFlow(t);
  const known = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  const unknown = await f.paidOrder([{ productId: f.products.sticker, quantity: 1 }]);
  await f.waitForFulfilment(known.orderId, 'submitted');
  await f.waitForFulfilment(unknown.orderId, 'submitted');
  await waitFor('both accepted', async () => await f.eventsSettled(known.number) && await f.eventsSettled(unknown.number));

  await f.supplier.advance(known.number, 'in_production');
  await f.waitForFulfilment(known.orderId, 'in_production');
  const here = await cancelOrder(deps(f), known.orderId, actor).catch((error: unknown) => error);
  t.ok(here instanceof HttpError);
  t.match(here, { statusCode: 409, code: 'not_cancellable', message: `Order ${known.number} is in production at the supplier: it can no longer be cancelled. Refund it instead if the customer should get the money back.` });

  // The supplier started, and its webhook has not arrived: the supplier refuses.
  await f.supplier.addFaults({ dropWebhooks: 1 });
  await f.supplier.advance(unknown.number, 'in_production');
  const there = await cancelOrder(deps(f), unknown.orderId, actor).catch((error: unknown) => error);
  t.match(there, { statusCode: 409, code: 'not_cancellable', message: `The supplier has started producing order ${unknown.number}: it can no longer be cancelled. Refund it instead if the customer should get the money back.` });

  for (const { orderId } of [known, unknown]) {
    t.equal(await f.payment(orderId), 'paid');
    t.not(await f.fulfilment(orderId), 'cancelled');
    t.same(await events(f, orderId), [], 'nothing recorded');
  }
  t.match((await f.pool.query(`select cancel_requested_at from supplier_orders where order_id = $1`, [unknown.orderId])).rows[0], { cancel_requested_at: null });
  t.same((await f.supplier.orders()).map((o) => o.status), ['in_production', 'in_production']);
});

t.test('the supplier cancels an order after accepting it: cancelled, refunded with a credit note, the customer told, the team alerted', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.tent, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  await f.supplier.advance(number, 'in_production');
  await f.waitForFulfilment(orderId, 'in_production');
  await f.supplier.advance(number, 'cancelled');
  await f.waitForFulfilment(orderId, 'cancelled');
  await f.waitForPayment(orderId, 'refunded');
  const mail = await waitFor('the apology and the credit note', async () => {
    const messages = await f.mailTo(orderId);
    return messages.length >= 3 ? messages : undefined;
  });
  await settle();
  t.equal((await f.mailTo(orderId)).length, 3);
  t.ok(mail.some((m) => /was cancelled: your money is on its way back/.test(m.subject)));
  t.ok(mail.some((m) => m.subject.includes(`CN-${year}-000001`)));
  t.same((await f.alerts()).map((a) => [a.incident_key, a.severity]), [[`supplier_cancelled:${orderId}`, 'warning']]);
  const { rows } = await f.pool.query(`select to_state, reason from order_events where order_id = $1 and to_state in ('cancelled', 'refund_pending') order by id`, [orderId]);
  t.match(rows, [{ to_state: 'cancelled', reason: /the supplier cancelled the order: Cancelled by the supplier/ }, { to_state: 'refund_pending' }]);
});

t.test('an order that failed at the supplier after acceptance is refunded too', async (t) => {
  const f = await supplierFlow(t, { supplier: { delaysMs: { production: 300, shipping: 600_000, delivery: 600_000 } } });
  await f.supplier.addFaults({ failAfterAcceptance: 1 });
  const { orderId } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'cancelled');
  await f.waitForPayment(orderId, 'refunded');
  t.match((await f.pool.query(`select reason from order_events where order_id = $1 and to_state = 'cancelled'`, [orderId])).rows[0], { reason: /could not make the order/ });
  t.same((await f.alerts()).map((a) => a.incident_key), [`supplier_cancelled:${orderId}`]);
});

t.test('an order whose submission failed is sent again by an operator: looked up first, accepted once; pressing again adds nothing', async (t) => {
  const f = await supplierFlow(t);
  await f.supplier.addFaults({ fail5xx: { count: 5 } });
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'supplier_failed', 40_000);

  const first = await resubmitToSupplier(deps(f), orderId, actor);
  const second = await resubmitToSupplier(deps(f), orderId, actor);
  t.same([first, second], ['queued', 'already_queued']);
  await f.waitForFulfilment(orderId, 'submitted');
  t.same(await resubmitToSupplier(deps(f), orderId, actor), 'already_submitted');
  t.same((await f.supplierCalls()).map((c) => `${c.method} ${c.status}`), ['POST 500', 'GET 500', 'POST 500', 'GET 500', 'POST 500', 'GET 404', 'POST 201'], 'the resubmission looked it up before sending it');
  t.equal((await f.supplier.orders()).length, 1);
  t.same(await events(f, orderId), ['fulfilment:supplier_failed>supplier_failed'], 'the operator\'s press, in the history');
  const { rows } = await f.pool.query(`select from_state, to_state from order_events where order_id = $1 and dimension = 'fulfilment' order by id`, [orderId]);
  t.same(rows.map((r) => `${r.from_state}>${r.to_state}`), ['null>unfulfilled', 'unfulfilled>supplier_failed', 'supplier_failed>supplier_failed', 'supplier_failed>submitted']);
});

t.test('resubmitting and cancelling are refused where they make no sense', async (t) => {
  const f = await supplierFlow(t);
  await f.supplier.addFaults({ reject: { count: 1, code: 'unknown_sku' } });
  const { orderId } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'supplier_rejected');
  await f.waitForPayment(orderId, 'refunded');
  await t.rejects(resubmitToSupplier(deps(f), orderId, actor), { statusCode: 409, message: /is refunded: only a paid order is sent to the supplier/ });
  t.equal(await cancelOrder(deps(f), orderId, actor), 'cancelled', 'a rejected order can still be closed');
  await t.rejects(resubmitToSupplier(deps(f), orderId, actor), { statusCode: 409, message: /is cancelled: there is nothing to send/ });
  await t.rejects(cancelOrder(deps(f), '999999', actor), { statusCode: 404, message: 'There is no order with id 999999.' });
  await t.rejects(cancelOrder({ ...deps(f), boss: undefined }, orderId, actor), { statusCode: 409, code: 'no_job_queue' });
});

t.test('an operator refunds a delivered order: one refund, a credit note; again changes nothing', async (t) => {
  const f = await supplierFlow(t);
  const { orderId, number } = await f.paidOrder([{ productId: f.products.mug, quantity: 1 }]);
  await f.waitForFulfilment(orderId, 'submitted');
  await f.supplier.advance(number, 'delivered');
  await f.waitForFulfilment(orderId, 'delivered');
  t.equal(await refundOrder(deps(f), orderId, actor), 'refund_requested');
  t.equal(await refundOrder(deps(f), orderId, actor), 'already_refunding');
  await f.waitForPayment(orderId, 'refunded');
  t.equal(await refundOrder(deps(f), orderId, actor), 'already_refunding');
  t.same(await events(f, orderId), ['payment:paid>refund_pending']);
  t.equal((await f.gateway.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds').length, 1);
  const { rows } = await f.pool.query(`select kind, credits_invoice_id is not null as credits from invoices where order_id = $1 order by id`, [orderId]);
  t.same(rows, [{ kind: 'invoice', credits: false }, { kind: 'credit_note', credits: true }]);
  t.equal(await f.fulfilment(orderId), 'delivered', 'money only: the goods were delivered');
});
