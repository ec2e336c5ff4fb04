import { createHash } from 'node:crypto';
import t from 'tap';
import { getInvoicePdf } from '../../src/orders/invoices.repository.ts';
import { retryPayment } from '../../src/orders/checkout.service.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { transitionPayment } from '../../src/orders/order-state-machine.ts';
import { countRows, waitFor, workflow, type Workflow } from '../helpers/order-workflow.ts';

const year = new Date().getUTCFullYear();

async function paymentState(w: Workflow, orderId: string): Promise<string> {
  return (await w.pool.query(`select payment_state from orders where id = $1`, [orderId])).rows[0].payment_state;
}

t.test('a payment after the order expired is refunded once, with a credit note in its own series and its e-mail', async (t) => {
  const w = await workflow(t);
  const { orderId, number } = await w.checkout([{ productId: w.products.mug, quantity: 2 }]);
  // The shop gave up on the order while the customer still had the payment page open.
  t.equal(await transitionPayment(w.db, { orderId, to: 'expired', reason: 'not paid in time' }), true);
  await w.gateway.pay(await w.sessionOf(orderId));

  await waitFor('the order to be refunded', async () => await paymentState(w, orderId) === 'refunded');
  const refunds = (await w.gateway.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
  t.same(refunds.map((r) => [r.idempotencyKey, r.status]), [[`tanktop-order-${orderId}-${number}-refund`, 200]], 'one refund at the gateway, keyed by the order');
  t.equal(await countRows(w, `select from sales`), 0, 'nothing was sold');
  t.equal(await countRows(w, `select from payments where status = 'refunded'`), 1);
  const { rows: documents } = await w.pool.query(`select id::text, kind, number, credits_invoice_id, snapshot from invoices`);
  t.equal(documents.length, 1, 'no invoice, one credit note');
  t.match(documents[0], { kind: 'credit_note', number: `CN-${year}-000001`, credits_invoice_id: null });
  t.match(documents[0].snapshot, { credits: null, total: '25.00', reason: 'payment received after the order was expired' });
  const { rows: history } = await w.pool.query(`select from_state, to_state from order_events where order_id = $1 and dimension = 'payment' order by id`, [orderId]);
  t.same(history.map((r) => `${r.from_state}>${r.to_state}`), ['null>pending_payment', 'pending_payment>expired', 'expired>refund_pending', 'refund_pending>refunded']);

  const pdf = await waitFor('the credit note PDF', () => getInvoicePdf(w.db, documents[0].id));
  const [mail] = await waitFor('the credit-note e-mail', async () => {
    const messages = await w.messages();
    return messages.length ? messages : undefined;
  });
  t.match(mail!.subject, `CN-${year}-000001`);
  t.same(mail!.attachments.map((a) => [a.filename, a.sha256]), [[`CN-${year}-000001.pdf`, createHash('sha256').update(pdf.pdf).digest('hex')]]);
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);
  t.equal(await countRows(w, `select from invoices`), 1, 'the refund webhooks added no second credit note');
  t.equal((await w.messages()).length, 1);
});

t.test('a refund job whose gateway call fails is retried and refunds once', async (t) => {
  const w = await workflow(t);
  const { orderId, number } = await w.checkout([{ productId: w.products.sticker, quantity: 1 }]);
  await transitionPayment(w.db, { orderId, to: 'cancelled', reason: 'cancelled by the customer' });
  // Three failures use up the SDK's three tries: the job itself fails and is retried.
  await w.gateway.addFaults({ failApi: { count: 3, status: 500, path: '/v1/refunds' } });
  await w.gateway.pay(await w.sessionOf(orderId));
  await waitFor('the order to be refunded', async () => await paymentState(w, orderId) === 'refunded', 30_000);
  const refunds = (await w.gateway.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
  t.same(refunds.map((r) => r.status), [500, 500, 500, 200], 'failed three times, then refunded');
  t.ok(refunds.every((r) => r.idempotencyKey === `tanktop-order-${orderId}-${number}-refund`), 'every try with the same idempotency key');
  t.equal(await countRows(w, `select from invoices where kind = 'credit_note'`), 1);
});

t.test('a paid order refunded in the gateway\'s dashboard gets a credit note crediting its invoice', async (t) => {
  const w = await workflow(t);
  const { orderId } = await w.checkout([{ productId: w.products.tent, quantity: 1 }]);
  await w.gateway.pay(await w.sessionOf(orderId));
  await waitFor('the order to be paid', async () => await paymentState(w, orderId) === 'paid');
  const { rows: [order] } = await w.pool.query(`select payment_intent_id from orders where id = $1`, [orderId]);
  await w.stripe.refunds.create({ payment_intent: order.payment_intent_id });
  await waitFor('the order to be refunded', async () => await paymentState(w, orderId) === 'refunded');
  const { rows } = await w.pool.query(`select kind, number, credits_invoice_id::text, snapshot from invoices order by id`);
  t.equal(rows.length, 2);
  t.match(rows[1], { kind: 'credit_note', number: `CN-${year}-000001` });
  t.equal(rows[1].credits_invoice_id, (await w.pool.query(`select id::text from invoices where kind = 'invoice'`)).rows[0].id);
  t.match(rows[1].snapshot, { credits: { number: `INV-${year}-000001` } });
  await waitFor('two e-mails: the invoice and the credit note', async () => (await w.messages()).length === 2);
});

t.test('an order paid twice (a decline, a retry, then both sessions paid) keeps its first payment and refunds the second once: one refund, one credit note, one e-mail, one alert', async (t) => {
  const w = await workflow(t);
  const { orderId, number } = await w.checkout([{ productId: w.products.mug, quantity: 2 }]);
  const firstSession = await w.sessionOf(orderId);
  await w.gateway.decline(firstSession);
  await waitFor('the decline', async () => await paymentState(w, orderId) === 'payment_failed');
  // The first session, still open after its decline, is paid in another tab while its webhooks are on their way,
  // and the shopper presses Try again: the retry's expiry of that session comes too late.
  const before = (await w.gateway.events()).length;
  await w.gateway.addFaults({ dropWebhooks: 2 });
  t.equal((await w.gateway.pay(firstSession)).outcome, 'paid');
  const held = (await w.gateway.waitForEvents((events) => events.length === before + 2 && events.slice(before).every((e) => e.outcome === 'dropped'))).slice(before);
  await retryPayment(w.checkoutDeps, orderId);
  await w.gateway.pay(await w.sessionOf(orderId));
  await waitFor('the order to be paid', async () => await paymentState(w, orderId) === 'paid');
  for (const event of held) await w.gateway.resend(event.id);

  await waitFor('the second payment refunded', async () => await countRows(w, `select from payments where duplicate and status = 'refunded'`) === 1);
  await waitFor('two e-mails: the invoice and the credit note', async () => (await w.messages()).length === 2);
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);
  // Everything again: every event resent (the gateway's at-least-once), and the refund job run once more.
  for (const event of await w.gateway.events()) await w.gateway.resend(event.id);
  const { rows: [second] } = await w.pool.query(`select id::text, provider_payment_id from payments where duplicate`);
  await w.boss.send(Queues.refundOrder, { orderId, reason: 'again', paymentId: second.id });
  await waitFor('the resent webhooks processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0
    && (await w.boss.findJobs(Queues.refundOrder)).every((job) => job.state === 'completed'));

  t.equal(await paymentState(w, orderId), 'paid', 'the order keeps its first payment');
  t.same((await w.pool.query(`select status, duplicate, provider_payment_id = $2 as second from payments where order_id = $1 order by id`, [orderId, second.provider_payment_id])).rows,
    [{ status: 'succeeded', duplicate: false, second: false }, { status: 'refunded', duplicate: true, second: true }]);
  const refunds = (await w.gateway.requests()).filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
  t.same(refunds.map((r) => r.idempotencyKey), [`tanktop-order-${orderId}-${number}-payment-${second.id}-refund`], 'one refund at the gateway, keyed by the payment');
  const { rows: documents } = await w.pool.query(`select kind, payment_id::text, credits_invoice_id, total::text, snapshot ->> 'reason' as reason from invoices order by id`);
  t.match(documents, [
    { kind: 'invoice', payment_id: null },
    { kind: 'credit_note', payment_id: second.id, credits_invoice_id: null, total: '25.00', reason: `a second payment for order ${number}, refunded` },
  ]);
  t.equal(documents.length, 2, 'one credit note');
  const mail = await w.messages();
  t.equal(mail.length, 2, 'one credit-note e-mail');
  t.ok(mail.some((m) => /^Credit note CN-/.test(m.subject) && /second payment we received for your order/.test(m.text ?? '')), 'it says what was refunded');
  const { rows: alerts } = await w.pool.query(`select incident_key, severity, occurrences from alerts`);
  t.same(alerts, [{ incident_key: `second_payment:${orderId}:${second.id}`, severity: 'warning', occurrences: 1 }], 'one alert');
  t.equal(await countRows(w, `select from sales`), 2, 'sold once');
});
