import t from 'tap';
import { unescapeHtml } from '../stats-pages/app-harness.ts';
import { opsHarness } from './ops-harness.ts';

/** The timeline as (kind, time, title) in page order. */
function timeline(html: string) {
  return [...html.matchAll(/<li data-kind="([^"]+)" data-at="([^"]+)">[\s\S]*?<span class="what">([^<]*)<\/span>/g)]
    .map(([, kind, at, title]) => ({ kind: kind!, at: at!, title: unescapeHtml(title!) }));
}

t.test('an order\'s page', async (t) => {
  const h = await opsHarness(t);
  const { orderId, eventId } = await h.paidOrder();
  // The invoice job renders the PDF and queues the e-mail (no mail worker: it stays queued).
  await h.work('invoice__render_pdf', async () => (await h.pool.query(`select 1 from email_outbox where order_id = $1`, [orderId])).rowCount);
  const number = (await h.pool.query<{ number: string }>(`select number from orders where id = $1`, [orderId])).rows[0]!.number;

  t.test('merges history, webhooks, payment, invoice, jobs and e-mail into one chronological list', async (t) => {
    const page = await h.get(`/ops/orders/${orderId}`);
    t.equal(page.statusCode, 200);
    const entries = timeline(page.body);
    const times = entries.map((e) => e.at);
    t.same(times, [...times].sort(), 'oldest first');
    t.same(entries.filter((e) => e.kind === 'event').map((e) => e.title),
      ['payment: pending payment', 'fulfilment: unfulfilled', 'payment: pending payment → paid'], 'every order_events row, in order');
    const kinds = new Set(entries.map((e) => e.kind));
    for (const kind of ['event', 'webhook', 'payment', 'invoice', 'job', 'email']) t.ok(kinds.has(kind), `the timeline has a ${kind}`);
    t.ok(entries.findIndex((e) => e.title === 'payment: pending payment → paid') < entries.findIndex((e) => e.kind === 'email'), 'the e-mail follows the payment');
    t.ok(entries.some((e) => e.kind === 'job' && e.title === 'job invoice__render_pdf: completed'));
    t.ok(entries.some((e) => e.kind === 'webhook' && e.title === 'webhook checkout.session.completed received'));
    t.match(page.body, eventId);
    t.match(page.body, /e-mail invoice: queued/);
    t.match(page.body, /<tr data-email-status="queued"><td>invoice<\/td>/, 'the e-mails panel');
    const { rows: [mail] } = await h.pool.query<{ subject: string; text_body: string }>(`select subject, text_body from email_outbox where order_id = $1`, [orderId]);
    t.notMatch(page.body, mail!.subject, 'no subjects');
    t.notMatch(page.body, 'thank you for your order', 'no bodies');
    t.match(page.body, 'source evt_test_paid_', 'events say what caused them');
  });

  t.test('the invoice PDF downloads through the signed-in route', async (t) => {
    const page = await h.get(`/ops/orders/${orderId}`);
    const href = /href="(\/ops\/invoices\/\d+\/pdf)"/.exec(page.body)?.[1];
    t.ok(href, 'the page links the PDF');
    const pdf = await h.get(href!);
    t.equal(pdf.statusCode, 200);
    t.equal(pdf.headers['content-type'], 'application/pdf');
    t.match(pdf.headers['content-disposition'], /attachment; filename="INV-\d{4}-000001\.pdf"/);
    t.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    t.equal((await h.get('/ops/invoices/999999/pdf')).statusCode, 404);
    t.equal((await h.get('/ops/invoices/abc/pdf')).statusCode, 400);
    const anonymous = await h.app.inject({ url: href! });
    t.equal(anonymous.statusCode, 303, 'no session, no PDF');
  });

  t.test('is found by number too; a bad or unknown reference says so', async (t) => {
    const byNumber = await h.get(`/ops/orders/${number.toLowerCase()}`);
    t.equal(byNumber.statusCode, 200);
    t.match(byNumber.body, `<h1>Order ${number}`);
    const bad = await h.get('/ops/orders/not-an-order');
    t.equal(bad.statusCode, 400);
    t.match(unescapeHtml(bad.body), '"not-an-order" is neither an order id (digits) nor an order number such as TT-AB12-CD34.');
    const unknown = await h.get('/ops/orders/987654');
    t.equal(unknown.statusCode, 404);
    t.match(unknown.body, 'There is no order with id 987654.');
    t.equal((await h.get('/ops/orders/TT-ZZZZ-ZZZZ')).statusCode, 404);
    t.equal((await h.get(`/ops/orders/${orderId}?done=bogus`)).statusCode, 400);
    t.equal((await h.get(`/ops/orders/${orderId}?page=2`)).statusCode, 400);
  });

  t.test('a paid order offers refund and cancel (with the supplier actions), not resubmit', async (t) => {
    const page = await h.get(`/ops/orders/${orderId}`);
    t.notMatch(page.body, '/resubmit"', 'its first submission is automatic');
    t.match(page.body, `action="/ops/orders/${orderId}/refund"`);
    t.match(page.body, 'Refund 25.00 EUR to the customer');
    t.match(page.body, `action="/ops/orders/${orderId}/cancel"`);
  });

  t.test('customer names and review reasons with markup print as text', async (t) => {
    const other = await h.order();
    await h.pool.query(`update orders set customer_name = $2, needs_review = true, review_reason = $3, address_line1 = $4 where id = $1`,
      [other, '<img src=x onerror=alert(1)> "Bob"', 'amount <b>differs</b>', '1 <i>High</i> St']);
    await h.pool.query(`insert into order_events (order_id, dimension, from_state, to_state, reason, source) values ($1, 'review', 'clear', 'needs_review', $2, $3)`,
      [other, 'reason <script>x()</script>', 'evt_<b>']);
    const page = await h.get(`/ops/orders/${other}`);
    t.equal(page.statusCode, 200);
    for (const raw of ['<img src=x', '<b>differs', '<i>High', '<script>x()', 'evt_<b>']) t.notMatch(page.body, raw);
    t.match(page.body, '&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt; &quot;Bob&quot;');
    t.match(page.body, 'amount &lt;b&gt;differs&lt;/b&gt;');
    t.match(page.body, 'reason &lt;script&gt;x()&lt;/script&gt;');
  });

  t.test('rows of the supplier\'s and the alerts\' tables show up where those tables exist', async (t) => {
    // The alerts and supplier migrations are written alongside: make the tables where they are not there yet.
    await h.pool.query(`create table if not exists alerts (id bigint generated always as identity primary key, incident_key text, severity text,
      title text, order_id bigint, occurrences int, status text, first_raised_at timestamptz default now())`);
    await h.pool.query(`insert into alerts (incident_key, severity, title, order_id, occurrences, status) values ('k1', 'critical', 'Supplier <down>', $1, 3, 'queued')`, [orderId]);
    const { rows: [alert] } = await h.pool.query<{ id: string }>(`select id::text as id from alerts where incident_key = 'k1'`);
    if (await h.boss.getQueue('alert__send')) await h.boss.send('alert__send', { alertId: alert!.id });
    await h.pool.query('drop table if exists supplier_calls');
    const page = await h.get(`/ops/orders/${orderId}`);
    t.equal(page.statusCode, 200);
    t.match(page.body, '<h2>Alerts</h2>');
    t.match(page.body, 'Supplier &lt;down&gt;');
    t.notMatch(page.body, 'Supplier <down>');
    t.ok(timeline(page.body).some((e) => e.kind === 'alert' && e.title === 'alert: Supplier <down>'), 'alerts join the timeline');
    t.notMatch(page.body, '<h2>Supplier calls</h2>', 'a table that is not there is left out');
    if (await h.boss.getQueue('alert__send')) t.match(page.body, 'data-queue="alert__send"', 'the alert\'s job, found by its alert id');
  });
});
