import t from 'tap';
import { PaymentGatewayError, retryPayment } from '../../src/orders/checkout.service.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { getOrderStatus } from '../../src/orders/order-status.ts';
import { countRows, waitFor, workflow, type Workflow } from '../helpers/order-workflow.ts';

async function paymentState(w: Workflow, orderId: string): Promise<string | undefined> {
  return (await getOrderStatus(w.db, { orderId }))?.paymentState;
}

t.test('a lost webhook: the reconcile job asks the gateway and pays the order once', async (t) => {
  const w = await workflow(t);
  const { orderId } = await w.checkout([{ productId: w.products.mug, quantity: 2 }]);
  await w.gateway.addFaults({ dropWebhooks: 2 });
  await w.gateway.pay(await w.sessionOf(orderId));
  await w.gateway.waitForEvents((events) => events.length === 2 && events.every((e) => e.outcome === 'dropped'));
  t.equal(await paymentState(w, orderId), 'pending_payment', 'no webhook, no news');

  await w.boss.send(Queues.reconcilePayments, { olderThanSeconds: 0 });
  await waitFor('the order to be paid', async () => await paymentState(w, orderId) === 'paid');
  // A second run (and the webhooks, resent late) change nothing.
  await w.boss.send(Queues.reconcilePayments, { olderThanSeconds: 0 });
  for (const event of await w.gateway.events()) await w.gateway.resend(event.id);
  await waitFor('the resent webhooks processed', async () => await countRows(w, `select from webhook_events where processed_at is not null`) === 2);
  await waitFor('the reconcile jobs done', async () => (await w.boss.findJobs(Queues.reconcilePayments)).every((job) => job.state === 'completed'));
  t.equal(await countRows(w, `select from payments`), 1);
  t.equal(await countRows(w, `select from sales`), 2);
  t.equal(await countRows(w, `select from invoices`), 1);
  const { rows } = await w.pool.query(`select source from order_events where order_id = $1 and to_state = 'paid'`, [orderId]);
  t.match(rows, [{ source: /^reconcile:/ }], 'paid by the reconcile job');
  t.same((await w.pool.query(`select outcome from webhook_events order by id`)).rows.map((r) => r.outcome), ['duplicate', 'duplicate']);
  await waitFor('the invoice e-mail', async () => (await w.messages()).length === 1);
});

t.test('a webhook stored without a job (a process with no queue) is processed by the reconcile job', async (t) => {
  const w = await workflow(t);
  const { orderId } = await w.checkout([{ productId: w.products.mug, quantity: 1 }]);
  await w.gateway.pay(await w.sessionOf(orderId));
  await waitFor('the order to be paid', async () => await paymentState(w, orderId) === 'paid');
  // An event as a web process without a job queue stores it: no job.
  await w.pool.query(`insert into webhook_events (provider, event_id, type, payload, received_at)
    values ('stripe', 'evt_orphan', 'customer.created', '{"id": "evt_orphan", "type": "customer.created", "data": {"object": {}}}', now() - interval '1 hour')`);
  await w.boss.send(Queues.reconcilePayments, { olderThanSeconds: 60 });
  await waitFor('the orphan processed', async () => await countRows(w, `select from webhook_events where event_id = 'evt_orphan' and processed_at is not null`) === 1);
  t.equal((await w.pool.query(`select outcome from webhook_events where event_id = 'evt_orphan'`)).rows[0].outcome, 'ignored: customer.created', 'an unknown event type is stored and marked ignored');
});

t.test('a stored event the processor cannot apply (written before the route checked shapes) is marked refused by its job, not retried', async (t) => {
  const w = await workflow(t);
  const { rows: [row] } = await w.pool.query(`insert into webhook_events (provider, event_id, type, payload)
    values ('stripe', 'evt_old_no_data', 'checkout.session.completed', '{"id": "evt_old_no_data", "type": "checkout.session.completed"}') returning id::text`);
  const jobId = await w.boss.send(Queues.processStripeEvent, { webhookEventId: row.id });
  await waitFor('the job done', async () => (await w.boss.getJobById(Queues.processStripeEvent, jobId!))?.state === 'completed');
  const job = await w.boss.getJobById(Queues.processStripeEvent, jobId!);
  t.equal(job!.retryCount, 0, 'no retry');
  const { rows: [event] } = await w.pool.query(`select outcome, refused_reason, processing_error, processed_at is not null as processed from webhook_events where id = $1`, [row.id]);
  t.same(event, { outcome: 'refused', refused_reason: 'data.object is missing or not an object', processing_error: null, processed: true });
});

t.test('declined, then retried with a new session, then paid', async (t) => {
  const w = await workflow(t);
  const first = await w.checkout([{ productId: w.products.tent, quantity: 1 }]);
  const firstSession = await w.sessionOf(first.orderId);
  await w.gateway.decline(firstSession);
  await waitFor('the order to fail', async () => await paymentState(w, first.orderId) === 'payment_failed');
  const failed = await getOrderStatus(w.db, { orderId: first.orderId });
  t.equal(failed!.canRetryPayment, true);

  const retry = await retryPayment(w.checkoutDeps, first.orderId);
  t.equal(retry.orderId, first.orderId);
  t.not(retry.redirectUrl, first.redirectUrl, 'a new payment page');
  t.same(await retryPayment(w.checkoutDeps, first.orderId), retry, 'pressing retry twice gives the same page');
  const secondSession = await w.sessionOf(first.orderId);
  t.not(secondSession, firstSession);
  const keys = (await w.gateway.requests()).filter((r) => r.path === '/v1/checkout/sessions').map((r) => r.idempotencyKey);
  t.same(keys, [`tanktop-order-${first.orderId}-${first.number}-checkout-1`, `tanktop-order-${first.orderId}-${first.number}-checkout-2`]);

  await w.gateway.pay(secondSession);
  await waitFor('the order to be paid', async () => await paymentState(w, first.orderId) === 'paid');
  // The old session was expired by the retry; its event must not touch the order.
  await w.gateway.waitForEvents((events) => events.some((e) => e.type === 'checkout.session.expired' && e.outcome === 'delivered'));
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);
  t.equal((await w.pool.query(`select outcome from webhook_events where type = 'checkout.session.expired'`)).rows[0].outcome, 'stale_session');
  t.equal(await paymentState(w, first.orderId), 'paid');
  const { rows } = await w.pool.query(`select from_state, to_state from order_events where order_id = $1 and dimension = 'payment' order by id`, [first.orderId]);
  t.same(rows.map((r) => `${r.from_state}>${r.to_state}`), ['null>pending_payment', 'pending_payment>payment_failed', 'payment_failed>pending_payment', 'pending_payment>paid']);
  await t.rejects(retryPayment(w.checkoutDeps, first.orderId), { statusCode: 409, message: /is paid: it cannot be paid again/ }, 'a paid order cannot be retried');
});

t.test('the gateway down at checkout: a clear 502, the order kept as payment_failed, a retry pays it', async (t) => {
  const w = await workflow(t);
  await w.gateway.addFaults({ failApi: { count: 3, status: 503, path: '/v1/checkout/sessions' } });
  const error = await w.checkout([{ productId: w.products.mug, quantity: 1 }]).catch((caught: unknown) => caught);
  t.type(error, PaymentGatewayError);
  const gatewayError = error as PaymentGatewayError;
  t.equal(gatewayError.statusCode, 502);
  t.match(gatewayError.message, `Your order ${gatewayError.number} is saved: try paying again`);
  t.equal(await paymentState(w, gatewayError.orderId), 'payment_failed');
  t.equal((await w.gateway.requests()).filter((r) => r.path === '/v1/checkout/sessions').length, 3, 'the SDK tried three times, with one idempotency key');

  const retry = await retryPayment(w.checkoutDeps, gatewayError.orderId);
  await w.gateway.pay(await w.sessionOf(retry.orderId));
  await waitFor('the order to be paid', async () => await paymentState(w, retry.orderId) === 'paid');
});

t.test('a session expired at the gateway expires the order', async (t) => {
  const w = await workflow(t);
  const { orderId } = await w.checkout([{ productId: w.products.mug, quantity: 1 }]);
  await w.gateway.expireNow(await w.sessionOf(orderId));
  await waitFor('the order to expire', async () => await paymentState(w, orderId) === 'expired');
  t.equal(await countRows(w, `select from sales`), 0);
});

t.test('the expire job ends stale orders at the gateway, but pays one that was paid after all', async (t) => {
  const w = await workflow(t);
  const stale = await w.checkout([{ productId: w.products.mug, quantity: 1 }]);
  const paidLate = await w.checkout([{ productId: w.products.sticker, quantity: 1 }]);
  const fresh = await w.checkout([{ productId: w.products.tent, quantity: 1 }]);
  await w.gateway.addFaults({ dropWebhooks: 2 });
  await w.gateway.pay(await w.sessionOf(paidLate.orderId));
  await w.gateway.waitForEvents((events) => events.filter((e) => e.outcome === 'dropped').length === 2);
  await w.pool.query(`update orders set expires_at = now() - interval '1 hour' where id = any($1)`, [[stale.orderId, paidLate.orderId]]);

  await w.boss.send(Queues.expireStaleOrders, { graceSeconds: 0 });
  await waitFor('the stale order to expire', async () => await paymentState(w, stale.orderId) === 'expired');
  await waitFor('the late payment applied', async () => await paymentState(w, paidLate.orderId) === 'paid');
  t.equal(await paymentState(w, fresh.orderId), 'pending_payment', 'an order within its time is left alone');
  const sessions = await w.gateway.events('checkout.session.expired');
  t.equal(sessions.length, 1, 'the stale session was ended at the gateway, so it cannot be paid later');
});

t.test('a job that fails half-way is retried, and its effects happen once', async (t) => {
  const w = await workflow(t);
  // The first invoice insert fails, after the payment, the sales and the counter were written in
  // the same transaction: all of it rolls back, and the job's retry does it all once.
  await w.pool.query(`
    create sequence test_invoice_failures;
    create function test_fail_first_invoice() returns trigger language plpgsql as $$
    begin
      if nextval('test_invoice_failures') = 1 then raise exception 'injected failure half-way through the payment'; end if;
      return new;
    end $$;
    create trigger test_fail_first_invoice before insert on invoices for each row execute function test_fail_first_invoice();`);
  const { orderId } = await w.checkout([{ productId: w.products.mug, quantity: 3 }]);
  await w.gateway.pay(await w.sessionOf(orderId));
  await waitFor('the order to be paid', async () => await paymentState(w, orderId) === 'paid', 30_000);
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);
  const { rows: [failures] } = await w.pool.query(`select last_value::int from test_invoice_failures`);
  t.ok(failures.last_value >= 2, 'the first attempt failed and was retried');
  t.equal(await countRows(w, `select from payments`), 1);
  t.equal(await countRows(w, `select from sales`), 3);
  const { rows } = await w.pool.query(`select sequence_number::int from invoices`);
  t.same(rows, [{ sequence_number: 1 }], 'the failed attempt used no number');
  await waitFor('the invoice e-mail', async () => (await w.messages()).length === 1);
});
