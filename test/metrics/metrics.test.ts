import t, { type Test } from 'tap';
import Stripe from 'stripe';
import { loadConfig } from '../../src/config.ts';
import { EMAIL_SEND_QUEUE, EMAIL_SEND_DEAD_LETTER_QUEUE } from '../../src/email/email.queues.ts';
import { build } from '../../src/http/app.ts';
import { allQueues } from '../../src/jobs/all-queues.ts';
import { deadLetterOf, Queues } from '../../src/orders/order-queues.ts';
import { FULFILMENT_STATES, PAYMENT_STATES } from '../../src/orders/order-states.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { startTestBoss } from '../helpers/job-queue.ts';
import { insertOrder, makeProducts } from '../helpers/order-fixtures.ts';
import { parseExposition } from '../helpers/prometheus-text.ts';

const config = loadConfig({});
const signer = new Stripe(config.stripe.secretKey);

async function setup(t: Test, options: { withBoss?: boolean } = {}) {
  const database = await freshDatabase(t, { poolSize: 6 });
  const boss = options.withBoss ? await startTestBoss(t, database.url) : undefined;
  const app = await build(config, { pool: database.pool, db: database.db, log: testLog, boss });
  t.teardown(() => app.close());
  const scrape = async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    t.equal(response.statusCode, 200, 'the scrape succeeds');
    return parseExposition(response.body);
  };
  return { ...database, boss, app, scrape };
}

t.test('the metrics are Prometheus text: every line parses and every family is typed', async (t) => {
  const { app } = await setup(t);
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(response.statusCode, 200, 'no session is needed from this machine');
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  t.equal(response.headers['cache-control'], 'no-store');
  const metrics = parseExposition(response.body);
  t.same(
    Object.fromEntries([...metrics.types].filter(([name]) => name.startsWith('tanktop_'))),
    {
      tanktop_webhook_rejects_total: 'counter',
      tanktop_stats_reads_total: 'counter',
      tanktop_stats_read_fallbacks_total: 'counter',
      tanktop_read_replica_lag_seconds: 'gauge',
      tanktop_orders: 'gauge',
      tanktop_queue_jobs: 'gauge',
      tanktop_jobs_failed: 'gauge',
      tanktop_webhook_events: 'gauge',
      tanktop_email_outbox: 'gauge',
    },
  );
  t.equal(metrics.types.get('process_cpu_user_seconds_total'), 'counter', 'the process metrics are there');
  t.equal(metrics.types.get('nodejs_eventloop_lag_seconds'), 'gauge');
  t.ok(metrics.samples.every((sample) => Number.isFinite(sample.value) || sample.name.startsWith('nodejs_')), 'the counts are numbers');
});

t.test('orders are counted by payment and fulfilment state, every other pair at 0', async (t) => {
  const { pool, scrape } = await setup(t);
  const { mug } = await makeProducts(pool);
  for (const paymentState of ['pending_payment', 'pending_payment', 'paid', 'paid', 'paid', 'expired', 'refunded']) {
    await insertOrder(pool, { productId: mug, paymentState });
  }
  await pool.query(`update orders set fulfilment_state = 'submitted' where id = (select min(id) from orders where payment_state = 'paid')`);

  const metrics = await scrape();
  const orders = (payment_state: string, fulfilment_state: string) => metrics.value('tanktop_orders', { payment_state, fulfilment_state });
  t.equal(orders('pending_payment', 'unfulfilled'), 2);
  t.equal(orders('paid', 'unfulfilled'), 2);
  t.equal(orders('paid', 'submitted'), 1);
  t.equal(orders('expired', 'unfulfilled'), 1);
  t.equal(orders('refunded', 'unfulfilled'), 1);
  t.equal(orders('cancelled', 'unfulfilled'), 0, 'a state without orders is there, at 0');
  t.equal(metrics.samples.filter((sample) => sample.name === 'tanktop_orders').length, PAYMENT_STATES.length * FULFILMENT_STATES.length);

  await pool.query(`update orders set payment_state = 'refund_pending' where payment_state = 'expired'`);
  const later = await scrape();
  t.equal(later.value('tanktop_orders', { payment_state: 'expired', fulfilment_state: 'unfulfilled' }), 0, 'a scrape reads the counts afresh');
  t.equal(later.value('tanktop_orders', { payment_state: 'refund_pending', fulfilment_state: 'unfulfilled' }), 1);
});

t.test('every refused webhook counts once under its reason; an accepted one does not count', async (t) => {
  const { app, scrape } = await setup(t);
  const deliver = (payload: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: { 'content-type': 'application/json', ...headers } });
  const sign = (payload: string, options: { secret?: string; timestamp?: number } = {}) =>
    signer.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? config.stripe.webhookSecret, timestamp: options.timestamp });
  const event = JSON.stringify({ id: 'evt_metrics', object: 'event', type: 'checkout.session.expired', created: 1, data: { object: { id: 'cs_metrics' } } });
  const rejects = async () => {
    const metrics = await scrape();
    return Object.fromEntries(['bad_signature', 'stale', 'too_large', 'bad_payload', 'malformed']
      .map((reason) => [reason, metrics.value('tanktop_webhook_rejects_total', { provider: 'stripe', reason })]));
  };

  const before = await rejects();
  t.ok(Object.values(before).every((value) => typeof value === 'number'), 'every reason is there before any refusal');
  t.equal((await deliver(event, { 'stripe-signature': sign(event, { secret: 'whsec_someone_else_entirely' }) })).statusCode, 400, 'forged');
  t.equal((await deliver(event)).statusCode, 400, 'unsigned');
  t.equal((await deliver(event, { 'stripe-signature': sign(event, { timestamp: Math.floor(Date.now() / 1000) - 301 }) })).statusCode, 400, 'stale');
  const big = JSON.stringify({ id: 'evt_big', padding: 'x'.repeat(300 * 1024) });
  t.equal((await deliver(big, { 'stripe-signature': sign(big) })).statusCode, 413, 'oversized');
  const notAnEvent = JSON.stringify({ hello: 'world' });
  t.equal((await deliver(notAnEvent, { 'stripe-signature': sign(notAnEvent) })).statusCode, 200, 'signed, but not an event: stored as refused, acknowledged');
  t.equal((await deliver('', { 'stripe-signature': sign('') })).statusCode, 400, 'empty');
  t.equal((await deliver(event, { 'stripe-signature': sign(event) })).statusCode, 200, 'a good one is accepted');

  const after = await rejects();
  t.same(
    Object.fromEntries(Object.keys(after).map((reason) => [reason, after[reason]! - before[reason]!])),
    { bad_signature: 2, stale: 1, too_large: 1, bad_payload: 1, malformed: 1 },
  );
});

t.test('queue depths and failed jobs come from pg-boss for every queue of the application', async (t) => {
  const { boss, scrape } = await setup(t, { withBoss: true });
  await boss!.send(Queues.refundOrder, { orderId: '1', reason: 'test' });
  await boss!.send(Queues.refundOrder, { orderId: '2', reason: 'test' });
  await boss!.send(EMAIL_SEND_QUEUE, { emailId: '1' });
  const doomed = await boss!.send(Queues.renderInvoicePdf, { invoiceId: '1' }, { retryLimit: 0 });
  await boss!.fail(Queues.renderInvoicePdf, doomed!, { message: 'broken on purpose' });

  const metrics = await scrape();
  const jobs = (queue: string, state: string) => metrics.value('tanktop_queue_jobs', { queue, state });
  t.equal(jobs(Queues.refundOrder, 'created'), 2);
  t.equal(jobs(EMAIL_SEND_QUEUE, 'created'), 1);
  t.equal(jobs(Queues.renderInvoicePdf, 'failed'), 1);
  t.equal(jobs(Queues.renderInvoicePdf, 'created'), 0);
  t.equal(jobs(deadLetterOf(Queues.renderInvoicePdf), 'created'), 1, 'the failed job waits in its dead-letter queue');
  t.equal(jobs(EMAIL_SEND_DEAD_LETTER_QUEUE, 'created'), 0);
  t.equal(metrics.value('tanktop_jobs_failed', { queue: Queues.renderInvoicePdf }), 1);
  t.equal(metrics.value('tanktop_jobs_failed', { queue: Queues.refundOrder }), 0);
  t.equal(jobs(Queues.refundOrder, 'completed'), undefined, 'completed jobs are not counted');
  for (const { name } of allQueues) {
    t.ok(['created', 'retry', 'active', 'failed', 'cancelled'].every((state) => jobs(name, state) !== undefined), `${name} has every state`);
  }
});

t.test('without a job queue in the process every queue is still reported, from the database', async (t) => {
  const { scrape, url } = await setup(t);
  const empty = await scrape();
  for (const { name } of allQueues) t.equal(empty.value('tanktop_queue_jobs', { queue: name, state: 'created' }), 0, `${name} at 0`);

  // Another process (the worker) sends a job: this app, which has no pg-boss of its own, sees it.
  const worker = await startTestBoss(t, url);
  await worker.send(Queues.processStripeEvent, { webhookEventId: '1' });
  const metrics = await scrape();
  t.equal(metrics.value('tanktop_queue_jobs', { queue: Queues.processStripeEvent, state: 'created' }), 1);
});

t.test('webhook events and e-mails are counted by status', async (t) => {
  const { pool, scrape } = await setup(t);
  await pool.query(`
    insert into webhook_events (provider, event_id, type, payload, processed_at, processing_error) values
      ('stripe', 'evt_1', 't', '{}', now(), null),
      ('stripe', 'evt_2', 't', '{}', now(), null),
      ('stripe', 'evt_3', 't', '{}', null, 'gateway timeout'),
      ('stripe', 'evt_4', 't', '{}', null, null),
      ('supplier', 'sup_1', 't', '{}', null, null)`);
  await pool.query(`insert into webhook_events (provider, event_id, type, payload, processed_at, outcome, refused_reason) values ('stripe', 'evt_5', 't', '{}', now(), 'refused', 'data.object is missing or not an object')`);
  await pool.query(`
    insert into email_outbox (dedupe_key, purpose, recipient, subject, text_body, html_body, status, sent_at) values
      ('a', 'invoice', 'a@example.com', 's', 't', 'h', 'sent', now()),
      ('b', 'invoice', 'b@example.com', 's', 't', 'h', 'queued', null),
      ('c', 'invoice', 'c@example.com', 's', 't', 'h', 'queued', null),
      ('d', 'invoice', 'd@example.com', 's', 't', 'h', 'failed', null)`);

  const metrics = await scrape();
  const events = (provider: string, status: string) => metrics.value('tanktop_webhook_events', { provider, status });
  t.same([events('stripe', 'processed'), events('stripe', 'failed'), events('stripe', 'received'), events('stripe', 'refused')], [2, 1, 1, 1], 'a refused event is not counted as processed');
  t.same([events('supplier', 'received'), events('supplier', 'processed'), events('supplier', 'refused')], [1, 0, 0], 'every status of both providers is there');
  const outbox = (status: string) => metrics.value('tanktop_email_outbox', { status });
  t.same([outbox('sent'), outbox('queued'), outbox('failed')], [1, 2, 1]);
});
