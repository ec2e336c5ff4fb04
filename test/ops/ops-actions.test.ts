import t from 'tap';
import { Queues } from '../../src/orders/order-queues.ts';
import { unescapeHtml } from '../stats-pages/app-harness.ts';
import { flashOf, opsHarness, problemOf, type OpsHarness } from './ops-harness.ts';

const DEAD_LETTER = `${Queues.processStripeEvent}__dead_letter`;

/**
 * A stored webhook the real stripe__process_event handler fails on, with no
 * retries left: the job fails for good and pg-boss puts a copy in the queue's
 * dead-letter queue. The event is well-formed (a malformed one is marked
 * refused, not retried); the database refuses its payment (a trigger of this
 * test, for these sessions only), as it would while something is broken.
 */
async function failedWebhookJob(h: OpsHarness, orderId: string, tag: string): Promise<{ jobId: string; copyId: string }> {
  const eventId = `evt_bad_${tag}`;
  const session = { id: `cs_bad_${tag}`, metadata: { order_id: orderId }, client_reference_id: orderId, payment_status: 'paid', amount_total: 100, currency: 'eur', payment_intent: null };
  await h.pool.query(`create or replace function test_refuse_payment() returns trigger language plpgsql as $$
    begin raise exception 'payments of this test are refused'; end $$`);
  await h.pool.query(`create or replace trigger test_refuse_payment before insert on payments for each row
    when (new.provider_payment_id like 'cs\\_bad\\_%') execute function test_refuse_payment()`);
  const { rows: [row] } = await h.pool.query<{ id: string }>(
    `insert into webhook_events (provider, event_id, type, payload) values ('stripe', $1, 'checkout.session.completed', $2) returning id::text as id`,
    [eventId, JSON.stringify({ id: eventId, type: 'checkout.session.completed', data: { object: session } })]);
  const jobId = (await h.boss.send(Queues.processStripeEvent, { webhookEventId: row!.id }, { retryLimit: 0 }))!;
  let copyId = '';
  await h.work(Queues.processStripeEvent, async () => {
    const { rows } = await h.pool.query<{ id: string }>(`select id::text from pgboss.job where name = $1 and source_id = $2`, [DEAD_LETTER, jobId]);
    copyId = rows[0]?.id ?? '';
    return copyId;
  });
  return { jobId, copyId };
}

async function job(h: OpsHarness, queue: string, id: string) {
  const { rows: [row] } = await h.pool.query<{ state: string; retry_limit: number; retry_count: number }>(
    `select state::text, retry_limit, retry_count from pgboss.job where name = $1 and id = $2`, [queue, id]);
  return row;
}

async function opsEvents(h: OpsHarness, orderId: string) {
  const { rows } = await h.pool.query<{ dimension: string; from_state: string; to_state: string; reason: string }>(
    `select dimension, from_state, to_state, reason from order_events where order_id = $1 and source = 'ops:ann' order by id`, [orderId]);
  return rows;
}

/** The flash after following a 303 from an action. */
async function followed(h: OpsHarness, response: { statusCode: number; headers: Record<string, unknown> }): Promise<{ location: string; flash: string | undefined }> {
  const location = String(response.headers.location);
  return { location, flash: flashOf((await h.get(location)).body) };
}

t.test('dead letters and Retry', async (t) => {
  const h = await opsHarness(t);
  const orderId = await h.order();
  const { jobId, copyId } = await failedWebhookJob(h, orderId, 'one');
  // A job whose data names no order: an invoice id that is not one.
  const orphan = (await h.boss.send(Queues.renderInvoicePdf, { invoiceId: 'oops' }, { retryLimit: 0 }))!;
  await h.work(Queues.renderInvoicePdf, async () => (await job(h, Queues.renderInvoicePdf, orphan))?.state === 'failed');
  const number = (await h.pool.query<{ number: string }>(`select number from orders where id = $1`, [orderId])).rows[0]!.number;

  t.test('the page lists each failure once, with its queue, order, error and attempts', async (t) => {
    const page = await h.get('/ops/dead-letters');
    t.equal(page.statusCode, 200);
    const rows = [...page.body.matchAll(/<tr data-job-id="([^"]+)" data-queue="([^"]+)">([\s\S]*?)<\/tr>/g)];
    const failure = rows.find(([, id]) => id === copyId);
    t.ok(failure, 'the dead-letter copy is listed');
    t.equal(failure![2], DEAD_LETTER);
    t.match(failure![3], `<a href="/ops/orders/${orderId}">${number}</a>`, 'with its order, from the webhook the job names');
    t.match(failure![3], 'payments of this test are refused', 'with the error from the job\'s output');
    t.match(failure![3], /<td class="num">1<\/td>/, 'one attempt');
    t.notOk(rows.some(([, id]) => id === jobId), 'the failed original is not listed beside its copy');
    const other = rows.find(([, , , cells]) => cells!.includes('invoice__render_pdf'));
    t.match(other![3], '<span class="muted">none</span>', 'a job that names no order');
    t.match(page.body, `data-queue-count="${DEAD_LETTER}">1<`);
    t.match(page.body, 'data-queue-count="email__send_dead_letter">0<', 'every dead-letter queue is listed, the e-mail one too');
    const filtered = await h.get(`/ops/dead-letters?queue=${Queues.renderInvoicePdf}__dead_letter`);
    t.notMatch(filtered.body, copyId, 'a queue filter');
    t.equal((await h.get('/ops/dead-letters?queue=nope')).statusCode, 400);
  });

  t.test('a double submit of Retry sends the job once more, once', async (t) => {
    const [first, second] = await Promise.all([
      h.post('/ops/dead-letters/retry', { queue: DEAD_LETTER, job: copyId }),
      h.post('/ops/dead-letters/retry', { queue: DEAD_LETTER, job: copyId }),
    ]);
    t.same([first.statusCode, second.statusCode], [303, 303]);
    t.same([first.headers.location, second.headers.location].sort(), ['/ops/dead-letters?done=retry', '/ops/dead-letters?done=retry-gone']);
    t.match(await job(h, Queues.processStripeEvent, jobId), { state: 'retry', retry_limit: 1 }, 'the original job waits for one more attempt');
    t.equal((await h.pool.query(`select 1 from pgboss.job where name = $1 and source_id = $2`, [DEAD_LETTER, jobId])).rowCount, 0, 'its copy left the dead-letter queue');
    t.equal((await h.boss.findJobs(Queues.processStripeEvent, { data: { webhookEventId: (await h.pool.query(`select id::text from webhook_events where event_id = 'evt_bad_one'`)).rows[0].id } })).length, 1, 'no second job');
    const recorded = await opsEvents(h, orderId);
    t.equal(recorded.length, 1, 'one order_events row');
    t.match(recorded[0], { dimension: 'payment', from_state: 'pending_payment', to_state: 'pending_payment', reason: `an operator retried the failed job ${Queues.processStripeEvent} ${jobId}` });
    const again = await h.post('/ops/dead-letters/retry', { queue: DEAD_LETTER, job: copyId });
    t.equal((await followed(h, again)).flash, 'Nothing to retry: that job was retried already, or it is no longer kept.');
    t.notMatch((await h.get('/ops/dead-letters')).body, copyId);

    // The retried job really runs again: the worker takes it, it fails again and is dead-lettered again.
    await h.work(Queues.processStripeEvent, async () => (await job(h, Queues.processStripeEvent, jobId))?.state === 'failed');
    t.match(await job(h, Queues.processStripeEvent, jobId), { retry_count: 1 });
    t.equal((await h.pool.query(`select 1 from pgboss.job where name = $1 and source_id = $2`, [DEAD_LETTER, jobId])).rowCount, 1);
  });

  t.test('Retry on the order page acts on the failed step; twice is once', async (t) => {
    const second = await failedWebhookJob(h, orderId, 'two');
    const page = await h.get(`/ops/orders/${orderId}`);
    t.match(page.body, new RegExp(`<tr data-job-id="${second.jobId}" data-queue="${Queues.processStripeEvent}" data-state="failed">[\\s\\S]*?Retry this step`));
    t.notMatch(page.body, new RegExp(`<tr data-job-id="${second.copyId}"[^>]*>[\\s\\S]*?Retry this step[\\s\\S]*?</tr>`), 'no second button on the copy');
    const first = await h.post(`/ops/orders/${orderId}/retry`, { queue: Queues.processStripeEvent, job: second.jobId });
    t.equal(first.headers.location, `/ops/orders/${orderId}?done=retry`);
    t.equal((await followed(h, first)).flash, 'The job was sent again: its new attempt shows below as soon as a worker takes it.');
    const repeat = await h.post(`/ops/orders/${orderId}/retry`, { queue: Queues.processStripeEvent, job: second.jobId });
    t.equal(repeat.headers.location, `/ops/orders/${orderId}?done=retry-already`);
    t.match(await job(h, Queues.processStripeEvent, second.jobId), { state: 'retry', retry_limit: 1 });
    t.equal((await h.pool.query(`select 1 from pgboss.job where name = $1 and source_id = $2 and state = 'created'`, [DEAD_LETTER, second.jobId])).rowCount, 0, 'its dead-letter copy is gone');
    t.equal((await opsEvents(h, orderId)).length, 2, 'one more order_events row');
    t.equal(flashOf((await h.get(String(repeat.headers.location))).body), 'That job had been retried already: nothing was sent again.');

    const stranger = await h.order();
    const foreign = await h.post(`/ops/orders/${stranger}/retry`, { queue: Queues.processStripeEvent, job: jobId });
    t.equal(foreign.statusCode, 404);
    t.match(foreign.body, `is not one of order ${stranger}`);
    const badQueue = await h.post(`/ops/orders/${orderId}/retry`, { queue: 'nope', job: jobId });
    t.equal(badQueue.statusCode, 400);
    t.match(unescapeHtml(badQueue.body), '"nope" is not one of the application\'s queues.');
    t.equal((await h.post('/ops/dead-letters/retry', { queue: DEAD_LETTER, job: 'x' })).statusCode, 400);
  });

  t.test('Retry without the CSRF token is refused', async (t) => {
    const third = await failedWebhookJob(h, orderId, 'three');
    const response = await h.post('/ops/dead-letters/retry', { queue: DEAD_LETTER, job: third.copyId }, { csrf: false });
    t.equal(response.statusCode, 403);
    t.match(response.body, 'This form has expired or did not come from this site');
    t.match(await job(h, Queues.processStripeEvent, third.jobId), { state: 'failed', retry_limit: 0 }, 'nothing was retried');
  });

  t.test('a retry that would make a second waiting job of a one-job-per-key queue is refused with a sentence', async (t) => {
    const queue = 'supplier__submit_order';
    if (!(await h.boss.getQueue(queue))) {
      t.pass(`nothing to test: there is no ${queue} queue yet`);
      return;
    }
    // Two submissions of one order that both failed for good (stately: one job per key and state).
    const failed: string[] = [];
    for (const message of ['supplier down', 'supplier down again']) {
      await h.boss.send(queue, { orderId }, { singletonKey: `order:${orderId}`, retryLimit: 0 });
      const [fetched] = await h.boss.fetch(queue);
      await h.boss.fail(queue, fetched!.id, { message });
      failed.push(fetched!.id);
    }
    const first = await h.post('/ops/dead-letters/retry', { queue, job: failed[0]! });
    t.equal(first.headers.location, '/ops/dead-letters?done=retry');
    const second = await h.post('/ops/dead-letters/retry', { queue, job: failed[1]! });
    t.equal(second.statusCode, 409);
    t.match(second.body, 'Another attempt of this step is already waiting or running: nothing was sent again.');
    t.match(await job(h, queue, failed[1]!), { state: 'failed' }, 'the second stays failed, its dead letter in place');
    t.equal((await h.pool.query(`select 1 from pgboss.job where source_id = $1 and state = 'created'`, [failed[1]])).rowCount, 1);
  });

  t.test('once a dead-letter worker has taken the copy, the failed job itself is listed and retried', async (t) => {
    const fourth = await failedWebhookJob(h, orderId, 'four');
    // What the alerts' dead-letter worker does: it takes the copy, raises its alert and completes it.
    await h.boss.complete(DEAD_LETTER, fourth.copyId, null, { includeQueued: true });
    const page = await h.get('/ops/dead-letters');
    t.notMatch(page.body, `data-job-id="${fourth.copyId}"`);
    t.match(page.body, `<tr data-job-id="${fourth.jobId}" data-queue="${Queues.processStripeEvent}">`, 'the failed original is listed');
    const [first, second] = await Promise.all([
      h.post('/ops/dead-letters/retry', { queue: Queues.processStripeEvent, job: fourth.jobId }),
      h.post('/ops/dead-letters/retry', { queue: Queues.processStripeEvent, job: fourth.jobId }),
    ]);
    t.same([first.headers.location, second.headers.location].sort(), ['/ops/dead-letters?done=retry', '/ops/dead-letters?done=retry-already']);
    t.match(await job(h, Queues.processStripeEvent, fourth.jobId), { state: 'retry', retry_limit: 1 });
    const orderPage = await h.get(`/ops/orders/${orderId}`);
    t.match(orderPage.body, new RegExp(`<tr data-job-id="${fourth.copyId}" data-queue="${DEAD_LETTER}" data-state="completed">`), 'the order page shows the completed copy too');
  });
});

/** The operator's actions of src/supplier/supplier-actions.ts, as the app uses them. */
t.test('refund and cancel through the supplier actions', async (t) => {
  const h = await opsHarness(t);
  const refundJobs = async (orderId: string) => h.boss.findJobs(Queues.refundOrder, { data: { orderId } });
  const states = async (orderId: string) => (await h.pool.query<{ payment_state: string; fulfilment_state: string }>(
    `select payment_state, fulfilment_state from orders where id = $1`, [orderId])).rows[0];

  t.test('refund pressed twice: one refund job, recorded once', async (t) => {
    const { orderId } = await h.paidOrder();
    const page = await h.get(`/ops/orders/${orderId}`);
    t.match(page.body, `action="/ops/orders/${orderId}/refund"`);
    t.match(page.body, 'Refund 25.00 EUR to the customer');
    const first = await h.post(`/ops/orders/${orderId}/refund`);
    t.equal(first.statusCode, 303);
    t.equal(first.headers.location, `/ops/orders/${orderId}?done=refund`);
    const shown = await h.get(String(first.headers.location));
    t.equal(flashOf(shown.body), 'Refund requested: the refund job gives the money back and issues the credit note.');
    t.notMatch(shown.body, `/ops/orders/${orderId}/refund"`, 'no refund button on an order waiting for its refund');
    const second = await h.post(`/ops/orders/${orderId}/refund`);
    t.equal(second.headers.location, `/ops/orders/${orderId}?done=refund-already`);
    t.equal((await refundJobs(orderId)).length, 1);
    t.match(await states(orderId), { payment_state: 'refund_pending' });
    t.same((await opsEvents(h, orderId)).map((e) => `${e.from_state}>${e.to_state}`), ['paid>refund_pending']);
  });

  t.test('two refund presses at once still make one job', async (t) => {
    const { orderId } = await h.paidOrder();
    const responses = await Promise.all([h.post(`/ops/orders/${orderId}/refund`), h.post(`/ops/orders/${orderId}/refund`)]);
    t.same(responses.map((r) => r.headers.location).sort(), [`/ops/orders/${orderId}?done=refund`, `/ops/orders/${orderId}?done=refund-already`]);
    t.equal((await refundJobs(orderId)).length, 1);
  });

  t.test('a refund of an order that is not paid is refused with the sentence, on the order\'s page', async (t) => {
    const orderId = await h.order();
    const response = await h.post(`/ops/orders/${orderId}/refund`);
    t.equal(response.statusCode, 409);
    t.match(problemOf(response.body), /^Only a paid order can be refunded; order TT-[0-9A-Z-]+ is pending payment\.$/);
    t.match(response.body, '<h1>Order TT-', 'on the order\'s own page');
    t.equal((await refundJobs(orderId)).length, 0);
    t.same(await opsEvents(h, orderId), []);
  });

  t.test('cancel of an order nobody paid for cancels both sides, once', async (t) => {
    const orderId = await h.order();
    t.match((await h.get(`/ops/orders/${orderId}`)).body, `action="/ops/orders/${orderId}/cancel"`);
    const first = await h.post(`/ops/orders/${orderId}/cancel`);
    t.equal(first.headers.location, `/ops/orders/${orderId}?done=cancel`);
    const second = await h.post(`/ops/orders/${orderId}/cancel`);
    t.equal(second.headers.location, `/ops/orders/${orderId}?done=cancel-already`);
    t.equal((await followed(h, second)).flash, 'The order had been cancelled already: nothing changed.');
    t.match(await states(orderId), { payment_state: 'cancelled', fulfilment_state: 'cancelled' });
    t.same((await opsEvents(h, orderId)).map((e) => `${e.dimension}:${e.from_state}>${e.to_state}`), ['fulfilment:unfulfilled>cancelled', 'payment:pending_payment>cancelled']);
  });

  t.test('cancel refused: an order in production shows the sentence and stays as it is', async (t) => {
    const { orderId } = await h.paidOrder();
    await h.pool.query(`update orders set fulfilment_state = 'in_production' where id = $1`, [orderId]);
    t.notMatch((await h.get(`/ops/orders/${orderId}`)).body, `/ops/orders/${orderId}/cancel"`, 'no cancel button once production started');
    const response = await h.post(`/ops/orders/${orderId}/cancel`);
    t.equal(response.statusCode, 409);
    t.match(problemOf(response.body), /^Order TT-[0-9A-Z-]+ is in production at the supplier: it can no longer be cancelled\. Refund it instead/);
    t.match(await states(orderId), { payment_state: 'paid', fulfilment_state: 'in_production' });
    t.equal((await refundJobs(orderId)).length, 0);
  });

  t.test('without the CSRF token, or with another session\'s, nothing happens', async (t) => {
    const { orderId } = await h.paidOrder();
    const missing = await h.post(`/ops/orders/${orderId}/refund`, {}, { csrf: false });
    t.equal(missing.statusCode, 403);
    t.match(missing.body, 'This form has expired or did not come from this site');
    const forged = await h.post(`/ops/orders/${orderId}/refund`, { _csrf: 'forged-token' }, { csrf: false });
    t.equal(forged.statusCode, 403);
    t.equal((await h.post(`/ops/orders/${orderId}/cancel`, {}, { csrf: false })).statusCode, 403);
    t.equal((await refundJobs(orderId)).length, 0);
    t.match(await states(orderId), { payment_state: 'paid', fulfilment_state: 'unfulfilled' });
    const anonymous = await h.app.inject({ method: 'POST', url: `/ops/orders/${orderId}/refund`, payload: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.equal(anonymous.statusCode, 303);
    t.equal(anonymous.headers.location, '/login', 'no session: sign in first');
    t.equal((await refundJobs(orderId)).length, 0);
  });
});
