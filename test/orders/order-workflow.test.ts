import { createHash } from 'node:crypto';
import t from 'tap';
import { getInvoicePdf } from '../../src/orders/invoices.repository.ts';
import { getOrderStatus } from '../../src/orders/order-status.ts';
import { SUBSCRIBED_EVENT_TYPES } from '../../src/orders/stripe-events.ts';
import { countRows, waitFor, workflow } from '../helpers/order-workflow.ts';

const year = new Date().getUTCFullYear();

t.test('checkout, payment at the gateway, webhook: paid, sales counted, invoice numbered, PDF stored and mailed', async (t) => {
  const w = await workflow(t);
  const result = await w.checkout([{ productId: w.products.mug, quantity: 3 }, { productId: w.products.sticker, quantity: 1 }], { email: 'Zoe@Example.com', name: 'Zoë Ünal' });
  t.match(result.number, /^TT-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  t.match(result.redirectUrl, new RegExp(`^${w.gatewayUrl}/pay/cs_`));
  const sessionId = await w.sessionOf(result.orderId);
  const requests = await w.gateway.requests();
  t.same(requests.filter((r) => r.path === '/v1/checkout/sessions').map((r) => r.idempotencyKey), [`tanktop-order-${result.orderId}-${result.number}-checkout-1`]);

  await w.gateway.pay(sessionId);
  await waitFor('the order to be paid', async () => (await getOrderStatus(w.db, { orderId: result.orderId }))?.paymentState === 'paid');

  const { rows: [order] } = await w.pool.query(`select customer_id, sales_agent_id, total::text, payment_intent_id from orders where id = $1`, [result.orderId]);
  t.equal(order.total, '45.49', 'priced by the server: 3 x 12.50 + 7.99');
  t.match(order.payment_intent_id, /^pi_/);
  t.equal(await countRows(w, `select from payments where order_id = $1 and amount = 45.49`, [result.orderId]), 1);
  t.equal(await countRows(w, `select from sales where customer_id = $1`, [order.customer_id]), 4, 'one sale per unit');
  const { rows: stats } = await w.pool.query(`select dimension, sales_count::int, total_price::text from daily_sales_stats
    where (dimension = 'customer' and entity_id = $1) or (dimension = 'agent' and entity_id = $2) order by dimension`, [order.customer_id, order.sales_agent_id]);
  t.same(stats, [{ dimension: 'agent', sales_count: 4, total_price: '45.49' }, { dimension: 'customer', sales_count: 4, total_price: '45.49' }],
    'daily_sales_stats reflects the sales');

  const { rows: [invoice] } = await w.pool.query(`select id::text, number from invoices where order_id = $1`, [result.orderId]);
  t.equal(invoice.number, `INV-${year}-000001`);
  const pdf = await waitFor('the invoice PDF', () => getInvoicePdf(w.db, invoice.id));
  t.equal(pdf.filename, `INV-${year}-000001.pdf`);
  t.equal(pdf.pdf.subarray(0, 5).toString('latin1'), '%PDF-');

  const [mail] = await waitFor('the invoice e-mail', async () => {
    const messages = await w.messages();
    return messages.length ? messages : undefined;
  });
  t.same(mail!.to.map((to) => to.toLowerCase()), ['zoe@example.com']);
  t.match(mail!.subject, `INV-${year}-000001`);
  t.match(mail!.text, 'Zoë Ünal');
  t.same(mail!.attachments.map((a) => [a.filename, a.contentType, a.sha256]),
    [[`INV-${year}-000001.pdf`, 'application/pdf', createHash('sha256').update(pdf.pdf).digest('hex')]], 'the stored PDF is attached');

  const status = await getOrderStatus(w.db, { number: result.number });
  t.match(status, { paymentState: 'paid', fulfilmentState: 'unfulfilled', needsReview: false, total: '45.49', canRetryPayment: false, checkoutUrl: null });
  t.match(status!.documents, [{ kind: 'invoice', number: `INV-${year}-000001`, pdfReady: true }]);
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);
  t.equal(await countRows(w, `select from webhook_events where processing_error is not null`), 0);
});

t.test('subscribed to the shop\'s event types only (as make start is): a decline, then a payment is one event, paid and e-mailed', async (t) => {
  const w = await workflow(t, { enabledEvents: SUBSCRIBED_EVENT_TYPES });
  const { orderId } = await w.checkout([{ productId: w.products.mug, quantity: 2 }]);
  const sessionId = await w.sessionOf(orderId);
  await w.gateway.decline(sessionId);
  await waitFor('the decline shown on the order', async () => (await getOrderStatus(w.db, { orderId }))?.canRetryPayment === true);
  await w.gateway.pay(sessionId);
  await waitFor('the invoice e-mail', async () => (await w.messages()).length > 0);
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);
  const { rows: processed } = await w.pool.query(`select type, outcome from webhook_events order by id`);
  t.same(processed, [{ type: 'payment_intent.payment_failed', outcome: 'payment_failed' }, { type: 'checkout.session.completed', outcome: 'paid' }],
    'payment_intent.succeeded is not delivered: checkout.session.completed alone pays the order');
  t.equal(await countRows(w, `select from sales`), 2);
  t.equal(await countRows(w, `select from invoices`), 1);
  t.equal((await w.messages()).length, 1);
});

t.test('every event delivered twice: one payment, one invoice, one e-mail', async (t) => {
  const w = await workflow(t);
  await w.gateway.addFaults({ duplicateWebhooks: 10 });
  const { orderId } = await w.checkout([{ productId: w.products.mug, quantity: 2 }]);
  await w.gateway.pay(await w.sessionOf(orderId));
  await w.gateway.waitForEvents((events) => events.length >= 2 && events.every((e) => e.outcome === 'delivered'));
  await waitFor('the invoice e-mail', async () => (await w.messages()).length > 0);
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);
  t.ok((await w.gateway.events()).every((e) => e.attempts.length >= 2), 'the gateway did deliver every event twice');
  t.equal(await countRows(w, `select from webhook_events`), 2, 'checkout.session.completed and payment_intent.succeeded, once each');
  t.equal(await countRows(w, `select from payments`), 1);
  t.equal(await countRows(w, `select from sales`), 2);
  t.equal(await countRows(w, `select from invoices`), 1);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  t.equal((await w.messages()).length, 1, 'one e-mail');
  t.equal(await countRows(w, `select from email_outbox`), 1);
});

t.test('events out of order converge: a decline that arrives after the payment changes nothing', async (t) => {
  const w = await workflow(t);
  const { orderId } = await w.checkout([{ productId: w.products.tent, quantity: 1 }]);
  const sessionId = await w.sessionOf(orderId);
  // The decline's webhook is lost on its first delivery and comes again after the payment's.
  await w.gateway.addFaults({ dropWebhooks: 1 });
  await w.gateway.decline(sessionId);
  await w.gateway.pay(sessionId);
  await waitFor('the order to be paid', async () => (await getOrderStatus(w.db, { orderId }))?.paymentState === 'paid');
  await waitFor('both payment webhooks processed', async () => await countRows(w, `select from webhook_events where processed_at is not null`) === 2);
  const declined = (await w.gateway.events()).find((e) => e.type === 'payment_intent.payment_failed')!;
  t.equal(declined.outcome, 'dropped', 'the decline was held back');
  await w.gateway.resend(declined.id);
  await waitFor('the late decline processed', async () => await countRows(w, `select from webhook_events where processed_at is not null`) === 3);
  const { rows: processed } = await w.pool.query(`select type, outcome from webhook_events order by id`);
  t.same(processed.map((e) => e.type), ['checkout.session.completed', 'payment_intent.succeeded', 'payment_intent.payment_failed']);
  // The payment's two events race each other to the worker: one pays, the other finds the payment.
  t.same(processed.slice(0, 2).map((e) => e.outcome).sort(), ['duplicate', 'paid'], 'one payment, reported twice');
  t.equal(processed[2].outcome, 'no_change', 'the late decline is refused by the state machine');
  const { rows: [order] } = await w.pool.query(`select payment_state from orders where id = $1`, [orderId]);
  t.equal(order.payment_state, 'paid');
  t.equal(await countRows(w, `select from sales`), 1);
});

t.test('a decline and a payment delivered together, in either order of processing, end paid with one sale', async (t) => {
  const w = await workflow(t);
  const { orderId } = await w.checkout([{ productId: w.products.tent, quantity: 1 }]);
  const sessionId = await w.sessionOf(orderId);
  // decline, then pay: held, then sent newest first; the jobs may run in any order.
  await w.gateway.addFaults({ reorderWebhooks: 3 });
  await w.gateway.decline(sessionId);
  await w.gateway.pay(sessionId);
  await w.gateway.resetFaults();
  await waitFor('the three webhooks processed', async () => await countRows(w, `select from webhook_events where processed_at is not null`) === 3);
  const { rows: [order] } = await w.pool.query(`select payment_state from orders where id = $1`, [orderId]);
  t.equal(order.payment_state, 'paid');
  t.equal(await countRows(w, `select from sales`), 1);
  t.equal(await countRows(w, `select from invoices`), 1);
});

t.test('an amount charged that differs from the order: needs review, no sales, no invoice, no e-mail', async (t) => {
  const w = await workflow(t);
  const { orderId } = await w.checkout([{ productId: w.products.mug, quantity: 1 }]);
  await w.gateway.pay(await w.sessionOf(orderId), { amount: 1 });
  await waitFor('the order flagged', async () => (await w.pool.query(`select needs_review from orders where id = $1`, [orderId])).rows[0].needs_review);
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0
    && await countRows(w, `select from webhook_events`) === 2);
  const { rows: [order] } = await w.pool.query(`select payment_state, review_reason from orders where id = $1`, [orderId]);
  t.equal(order.payment_state, 'pending_payment');
  t.match(order.review_reason, 'the gateway reported 0.01 EUR');
  t.equal(await countRows(w, `select from sales`), 0);
  t.equal(await countRows(w, `select from invoices`), 0);
  t.equal(await countRows(w, `select from email_outbox`), 0);
  t.equal(await countRows(w, `select from order_events where order_id = $1 and dimension = 'review'`, [orderId]), 1);
});

t.test('twenty orders paid at the gateway at once: invoice numbers 1 to 20, no gaps, no repeats', async (t) => {
  const w = await workflow(t);
  const orders = await Promise.all(Array.from({ length: 20 }, () => w.checkout([{ productId: w.products.sticker, quantity: 1 }])));
  await Promise.all(orders.map(async ({ orderId }) => w.gateway.pay(await w.sessionOf(orderId))));
  await waitFor('twenty paid orders', async () => await countRows(w, `select from orders where payment_state = 'paid'`) === 20, 60_000);
  const { rows } = await w.pool.query<{ n: number }>(`select sequence_number::int as n from invoices where kind = 'invoice' order by 1`);
  t.same(rows.map((r) => r.n), Array.from({ length: 20 }, (_, i) => i + 1));
  t.equal(await countRows(w, `select distinct order_id from invoices`), 20);
  t.equal(await countRows(w, `select from sales`), 20);
  await waitFor('twenty e-mails', async () => (await w.messages()).length === 20, 60_000);
});
