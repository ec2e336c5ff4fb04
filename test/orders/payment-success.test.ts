import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { loadConfig } from '../../src/config.ts';
import { SqlState } from '../../src/db/sqlstate.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { ALERT_SEND_QUEUE } from '../../src/alerts/alerts.queues.ts';
import { applyPaymentSuccess, completePaymentRefund, completeRefund, type PaymentDeps, type ReportedPayment } from '../../src/orders/payment.service.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { jobsOf, startTestBoss } from '../helpers/job-queue.ts';
import { count, insertOrder, makeProducts, orderRow } from '../helpers/order-fixtures.ts';

const orders = loadConfig({}).orders;

function payment(orderId: string, overrides: Partial<ReportedPayment> = {}): ReportedPayment {
  return {
    orderId, providerPaymentId: `pi_test_${orderId}`, paymentIntentId: `pi_test_${orderId}`, amountMinor: 3750, currency: 'eur',
    raw: { test: true }, source: `evt_test_${orderId}`, ...overrides,
  };
}

async function setup(t: Test, poolSize = 4) {
  const database = await freshDatabase(t, { poolSize });
  const boss = await startTestBoss(t, database.url);
  const deps: PaymentDeps = { boss, orders, log: testLog };
  const products = await makeProducts(database.pool);
  const pay = (report: ReportedPayment) => database.db.transaction().execute((trx) => applyPaymentSuccess(trx, deps, report));
  return { ...database, boss, deps, products, pay };
}

t.test('a payment pays the order once: payment row, one sale per unit, the invoice and its render job', async (t) => {
  const { pool, boss, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  t.equal(await pay(payment(orderId)), 'paid');

  const order = await orderRow(pool, orderId);
  t.equal(order.payment_state, 'paid');
  t.ok(order.paid_at);
  t.equal(order.payment_intent_id, `pi_test_${orderId}`);
  t.equal(await count(pool, `select from payments where order_id = $1 and amount = 37.50 and status = 'succeeded'`, [orderId]), 1);
  const { rows: sales } = await pool.query(`select customer_id, product_id, sales_agent_id, price from sales order by id`);
  t.equal(sales.length, 3, 'quantity 3: three sales rows');
  t.same(new Set(sales.map((s) => JSON.stringify(s))).size, 1, 'the same unit sale three times');
  t.same(sales[0], { customer_id: order.customer_id, product_id: products.mug, sales_agent_id: order.sales_agent_id, price: '12.50' });
  const { rows: [agent] } = await pool.query(`select name from sales_agents where id = $1`, [order.sales_agent_id]);
  t.equal(agent.name, 'Web shop');

  const { rows: stats } = await pool.query(`select dimension, sales_count::int, total_price::text from daily_sales_stats where entity_id = $1 and dimension = 'customer'`, [order.customer_id]);
  t.same(stats, [{ dimension: 'customer', sales_count: 3, total_price: '37.50' }], 'the rollups count the sales');

  const { rows: invoices } = await pool.query(`select kind, series, sequence_number::int, number, total::text, currency, snapshot from invoices where order_id = $1`, [orderId]);
  const year = new Date().getUTCFullYear();
  t.equal(invoices.length, 1);
  t.match(invoices[0], { kind: 'invoice', series: `INV-${year}`, sequence_number: 1, number: `INV-${year}-000001`, total: '37.50', currency: 'eur' });
  t.match(invoices[0].snapshot, {
    kind: 'invoice', number: `INV-${year}-000001`, currency: 'eur', total: '37.50',
    seller: { name: 'Tanktop Ltd' }, customer: { name: 'Ann Buyer' }, address: { line1: '1 High Street', city: 'Leeds', country: 'GB' },
    items: [{ name: 'Mug', quantity: 3, unitPrice: '12.50', lineTotal: '37.50' }], credits: null,
  });
  const jobs = await jobsOf(boss, Queues.renderInvoicePdf);
  t.equal(jobs.length, 1, 'one render job, committed with the invoice');
  t.same(jobs[0]!.data, { invoiceId: (await pool.query(`select id from invoices`)).rows[0].id });
  const { rows: history } = await pool.query(`select from_state, to_state, source from order_events where order_id = $1 order by id`, [orderId]);
  t.same(history, [{ from_state: 'pending_payment', to_state: 'paid', source: `evt_test_${orderId}` }]);
});

t.test('a payment whose gateway object holds NUL (the reconcile job reads it from the API, unsanitised) is recorded, the NUL replaced', async (t) => {
  const { pool, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  t.equal(await pay(payment(orderId, { raw: { customer_details: { name: 'Ann\u0000Buyer' }, note: '\udc00' } })), 'paid');
  const { rows } = await pool.query(`select raw from payments where order_id = $1`, [orderId]);
  t.same(rows[0].raw, { customer_details: { name: 'Ann\ufffdBuyer' }, note: '\ufffd' });
});

t.test('the same payment reported again changes nothing', async (t) => {
  const { pool, boss, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  t.equal(await pay(payment(orderId)), 'paid');
  t.equal(await pay(payment(orderId, { source: 'evt_again' })), 'duplicate');
  t.equal(await count(pool, `select from payments`), 1);
  t.equal(await count(pool, `select from sales`), 3);
  t.equal(await count(pool, `select from invoices`), 1);
  t.equal((await jobsOf(boss, Queues.renderInvoicePdf)).length, 1);
});

t.test('concurrent reports of one payment apply it once', async (t) => {
  const { pool, products, pay } = await setup(t, 8);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => pay(payment(orderId, { source: `evt_${i}` }))));
  t.same(outcomes.filter((o) => o === 'paid').length, 1);
  t.same(outcomes.filter((o) => o === 'duplicate').length, 5);
  t.equal(await count(pool, `select from sales`), 3);
  t.equal(await count(pool, `select from invoices`), 1);
});

t.test('an amount that differs from the order flags it for review: no sales, no invoice', async (t) => {
  const { pool, boss, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  t.equal(await pay(payment(orderId, { amountMinor: 100 })), 'amount_mismatch');
  const order = await orderRow(pool, orderId);
  t.equal(order.needs_review, true);
  t.match(order.review_reason, 'the gateway reported 1.00 EUR, the order\'s total is 37.50 EUR');
  t.equal(order.payment_state, 'pending_payment');
  t.equal(await count(pool, `select from payments where order_id = $1`, [orderId]), 1, 'the money received is recorded');
  t.equal(await count(pool, `select from sales`), 0);
  t.equal(await count(pool, `select from invoices`), 0);
  t.equal((await jobsOf(boss, Queues.renderInvoicePdf)).length, 0);
  t.equal(await count(pool, `select from order_events where order_id = $1 and dimension = 'review'`, [orderId]), 1);
});

t.test('a currency that differs from the order flags it for review', async (t) => {
  const { pool, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  t.equal(await pay(payment(orderId, { currency: 'usd' })), 'amount_mismatch');
  t.equal(await count(pool, `select from sales`), 0);
});

t.test('a payment for an expired order is recorded and a refund is scheduled', async (t) => {
  const { pool, boss, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3, paymentState: 'expired' });
  t.equal(await pay(payment(orderId)), 'refund_scheduled');
  t.equal((await orderRow(pool, orderId)).payment_state, 'refund_pending');
  t.equal(await count(pool, `select from payments where status = 'refund_pending'`), 1);
  t.equal(await count(pool, `select from sales`), 0);
  t.equal(await count(pool, `select from invoices`), 0);
  const jobs = await jobsOf(boss, Queues.refundOrder);
  t.equal(jobs.length, 1);
  t.match(jobs[0]!.data, { orderId });
});

t.test('a second payment for a paid order is recorded and its refund scheduled, alone, and the team told; the order stays paid', async (t) => {
  const { pool, boss, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  await pay(payment(orderId));
  t.equal(await pay(payment(orderId, { providerPaymentId: 'pi_other', paymentIntentId: 'pi_other', source: 'evt_second' })), 'second_payment_refund_scheduled');
  const { rows: payments } = await pool.query(`select id::text, provider_payment_id, status, duplicate from payments order by id`);
  t.match(payments, [{ provider_payment_id: `pi_test_${orderId}`, status: 'succeeded', duplicate: false }, { provider_payment_id: 'pi_other', status: 'refund_pending', duplicate: true }]);
  t.equal(await count(pool, `select from sales`), 3, 'nothing sold twice');
  t.match(await orderRow(pool, orderId), { payment_state: 'paid', needs_review: false }, 'nothing for a person to decide');
  t.same((await jobsOf(boss, Queues.refundOrder)).map((job) => job.data),
    [{ orderId, paymentId: payments[1].id, reason: `a second payment for order ${(await orderRow(pool, orderId)).number}, refunded` }], 'that payment\'s refund');
  const { rows: alerts } = await pool.query(`select incident_key, severity, order_id::text, title, occurrences from alerts`);
  t.match(alerts, [{ incident_key: `second_payment:${orderId}:${payments[1].id}`, severity: 'warning', order_id: orderId, title: /was paid twice: the second payment \(37\.50 EUR\) is being refunded/, occurrences: 1 }]);
  t.equal((await jobsOf(boss, ALERT_SEND_QUEUE)).length, 1);

  t.equal(await pay(payment(orderId, { providerPaymentId: 'pi_other', paymentIntentId: 'pi_other', source: 'evt_second_again' })), 'duplicate', 'reported again');
  t.equal((await jobsOf(boss, Queues.refundOrder)).length, 1, 'no second refund');
  t.equal((await pool.query(`select occurrences from alerts`)).rows[0].occurrences, 1, 'no second alert');
});

t.test('concurrent reports of one second payment schedule one refund and raise one alert', async (t) => {
  const { pool, boss, products, pay } = await setup(t, 8);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  await pay(payment(orderId));
  const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => pay(payment(orderId, { providerPaymentId: 'pi_other', paymentIntentId: 'pi_other', source: `evt_${i}` }))));
  t.same(outcomes.sort(), ['duplicate', 'duplicate', 'duplicate', 'duplicate', 'duplicate', 'second_payment_refund_scheduled']);
  t.equal((await jobsOf(boss, Queues.refundOrder)).length, 1);
  t.equal(await count(pool, `select from alerts`), 1);
  t.equal((await jobsOf(boss, ALERT_SEND_QUEUE)).length, 1);
});

t.test('a second payment of another amount is flagged for a person and alerted as critical, not refunded', async (t) => {
  const { pool, boss, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  await pay(payment(orderId));
  t.equal(await pay(payment(orderId, { providerPaymentId: 'pi_other', paymentIntentId: 'pi_other', amountMinor: 100 })), 'second_payment');
  t.match(await orderRow(pool, orderId), { payment_state: 'paid', needs_review: true, review_reason: /a second payment of 1\.00 EUR \(pi_other\), not the order's total/ });
  t.same((await pool.query(`select status, duplicate from payments where provider_payment_id = 'pi_other'`)).rows, [{ status: 'succeeded', duplicate: false }]);
  t.equal((await jobsOf(boss, Queues.refundOrder)).length, 0);
  t.match((await pool.query(`select severity, title from alerts`)).rows, [{ severity: 'critical', title: /received a second payment of 1\.00 EUR, not its total/ }]);
});

t.test('the order\'s own refund leaves a second payment\'s pending refund alone; each gets its own credit note', async (t) => {
  const { pool, db, deps, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  await pay(payment(orderId));
  await pay(payment(orderId, { providerPaymentId: 'pi_other', paymentIntentId: 'pi_other' }));
  const { rows: [second] } = await pool.query(`select id::text from payments where duplicate`);
  t.equal(await db.transaction().execute((trx) => completeRefund(trx, deps, { orderId, reason: 'refunded in the dashboard', source: 'evt_refund' })), 'refunded');
  t.same((await pool.query(`select provider_payment_id, status from payments order by id`)).rows,
    [{ provider_payment_id: `pi_test_${orderId}`, status: 'refunded' }, { provider_payment_id: 'pi_other', status: 'refund_pending' }], 'the second payment is still to be refunded');
  const refundSecond = () => db.transaction().execute((trx) => completePaymentRefund(trx, deps, { paymentId: second.id, reason: 'a second payment, refunded', source: 'job:1' }));
  t.equal(await refundSecond(), 'refunded');
  t.equal(await refundSecond(), 'no_change', 'its webhook after the job: nothing more');
  const { rows } = await pool.query(`select kind, payment_id::text, credits_invoice_id is not null as credits, total::text, snapshot -> 'payment' as payment from invoices order by id`);
  t.same(rows, [
    { kind: 'invoice', payment_id: null, credits: false, total: '37.50', payment: null },
    { kind: 'credit_note', payment_id: null, credits: true, total: '37.50', payment: null },
    { kind: 'credit_note', payment_id: second.id, credits: false, total: '37.50', payment: { id: second.id } },
  ]);
  t.equal((await orderRow(pool, orderId)).payment_state, 'refunded');
});

t.test('twenty orders paid at once get invoice numbers 1 to 20, each once', async (t) => {
  const { pool, products, pay } = await setup(t, 10);
  const orderIds: string[] = [];
  for (let i = 0; i < 20; i++) orderIds.push(await insertOrder(pool, { productId: products.sticker, quantity: 1 }));
  const outcomes = await Promise.all(orderIds.map((id) => pay(payment(id, { amountMinor: 799 }))));
  t.same(outcomes, orderIds.map(() => 'paid'));
  const { rows } = await pool.query<{ sequence_number: number }>(`select sequence_number::int from invoices order by sequence_number`);
  t.same(rows.map((r) => r.sequence_number), Array.from({ length: 20 }, (_, i) => i + 1));
  t.equal(await count(pool, `select distinct order_id from invoices`), 20);
});

t.test('a payment transaction that rolls back gives its invoice number back', async (t) => {
  const { pool, db, deps, products, pay } = await setup(t);
  const first = await insertOrder(pool, { productId: products.sticker });
  const second = await insertOrder(pool, { productId: products.sticker });
  await t.rejects(db.transaction().execute(async (trx) => {
    await applyPaymentSuccess(trx, deps, payment(first, { amountMinor: 799 }));
    throw new Error('the process died before commit');
  }), /died/);
  t.equal(await count(pool, `select from invoices`), 0);
  t.equal(await pay(payment(second, { amountMinor: 799 })), 'paid');
  t.equal(await pay(payment(first, { amountMinor: 799 })), 'paid');
  const { rows } = await pool.query(`select order_id::text, sequence_number::int from invoices order by sequence_number`);
  t.same(rows, [{ order_id: second, sequence_number: 1 }, { order_id: first, sequence_number: 2 }]);
});

t.test('the invoice number is taken at commit: an open payment transaction does not hold the series', async (t) => {
  const { pool, db, deps, products } = await setup(t);
  const slow = await insertOrder(pool, { productId: products.sticker });
  const quick = await insertOrder(pool, { productId: products.sticker });
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  let inside!: () => void;
  const issued = new Promise<void>((resolve) => { inside = resolve; });
  const slowPayment = db.transaction().execute(async (trx) => {
    const outcome = await applyPaymentSuccess(trx, deps, payment(slow, { amountMinor: 799 }));
    const { rows } = await sql<{ number: string | null; snapshot_number: string | null }>`select number, snapshot ->> 'number' as snapshot_number from invoices where order_id = ${slow}`.execute(trx);
    t.same(rows, [{ number: null, snapshot_number: null }], 'unnumbered inside the issuing transaction');
    await sql`savepoint manual_number`.execute(trx);
    await t.rejects(sql`update invoices set number = 'INV-1999-000001' where order_id = ${slow}`.execute(trx), { code: 'TT010' },
      'nobody but the commit trigger numbers it');
    await sql`rollback to savepoint manual_number`.execute(trx);
    inside();
    await released;
    return outcome;
  });
  await issued;
  // The open transaction has issued its invoice; another payment must not wait for it.
  const quickPayment = db.transaction().execute(async (trx) => {
    await sql`set local lock_timeout = '2s'`.execute(trx);
    return applyPaymentSuccess(trx, deps, payment(quick, { amountMinor: 799 }));
  });
  t.equal(await quickPayment, 'paid', 'a concurrent payment commits while the first is still open');
  release();
  t.equal(await slowPayment, 'paid');
  const { rows } = await pool.query(`select order_id::text, sequence_number::int, number = snapshot ->> 'number' as same from invoices order by sequence_number`);
  t.same(rows, [{ order_id: quick, sequence_number: 1, same: true }, { order_id: slow, sequence_number: 2, same: true }], 'numbered in commit order, snapshot included');
});

t.test('an invoice inserted with a number of its own is refused (TT011)', async (t) => {
  const { pool, products } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.sticker });
  await t.rejects(pool.query(`insert into invoices (kind, series, sequence_number, number, order_id, snapshot, total, currency)
    values ('invoice', 'INV-2026', 7, 'INV-2026-000007', $1, '{}', 7.99, 'eur')`, [orderId]),
  { code: SqlState.invoiceNumberGiven, message: /given by the database at commit/ });
  t.equal(await count(pool, `select from invoices`), 0);
});

t.test('an issued invoice cannot be changed or deleted (TT010); its PDF can be replaced', async (t) => {
  const { pool, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  await pay(payment(orderId));
  const { rows: [invoice] } = await pool.query(`select id, number from invoices`);
  await t.rejects(pool.query(`update invoices set total = 0 where id = $1`, [invoice.id]), { code: SqlState.invoiceImmutable, message: `invoice ${invoice.number} has been issued and cannot be changed` }, 'update refused');
  await t.rejects(pool.query(`update invoices set snapshot = '{}' where id = $1`, [invoice.id]), { code: 'TT010' }, 'the snapshot too');
  await t.rejects(pool.query(`delete from invoices where id = $1`, [invoice.id]), { code: 'TT010', message: /cannot be deleted/ }, 'delete refused');
  await pool.query(`insert into invoice_documents (invoice_id, pdf) values ($1, 'one')`, [invoice.id]);
  await pool.query(`update invoice_documents set pdf = 'two' where invoice_id = $1`, [invoice.id]);
  t.equal(await count(pool, `select from invoice_documents where pdf = 'two'`), 1);
});

t.test('a completed refund issues one credit note, in its own series, crediting the invoice', async (t) => {
  const { pool, db, deps, products, pay } = await setup(t);
  const orderId = await insertOrder(pool, { productId: products.mug, quantity: 3 });
  await pay(payment(orderId));
  const refund = () => db.transaction().execute((trx) => completeRefund(trx, deps, { orderId, reason: 'refunded in the dashboard', source: 'evt_refund' }));
  t.equal(await refund(), 'refunded');
  t.equal(await refund(), 'no_change', 'a second report of the refund changes nothing');
  const year = new Date().getUTCFullYear();
  const { rows } = await pool.query(`select kind, number, credits_invoice_id::text, snapshot from invoices order by id`);
  t.equal(rows.length, 2);
  t.equal(rows[1].kind, 'credit_note');
  t.equal(rows[1].number, `CN-${year}-000001`);
  t.equal(rows[1].credits_invoice_id, (await pool.query(`select id::text from invoices where kind = 'invoice'`)).rows[0].id);
  t.match(rows[1].snapshot, { kind: 'credit_note', credits: { number: `INV-${year}-000001` }, reason: 'refunded in the dashboard', total: '37.50' });
  t.equal((await orderRow(pool, orderId)).payment_state, 'refunded');
  t.equal(await count(pool, `select from payments where status = 'refunded'`), 1);
});
