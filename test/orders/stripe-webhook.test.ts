import t, { type Test } from 'tap';
import Stripe from 'stripe';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { ALERT_SEND_QUEUE } from '../../src/alerts/alerts.queues.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { parseExposition } from '../helpers/prometheus-text.ts';
import { jobsOf, startTestBoss } from '../helpers/job-queue.ts';
import { count } from '../helpers/order-fixtures.ts';

const config = loadConfig({});
const signer = new Stripe(config.stripe.secretKey);

/** A checkout session as the gateway reports a paid one: the fields the processor reads. */
const paidSession = {
  id: 'cs_test_1', object: 'checkout.session', payment_status: 'paid', amount_total: 1250, currency: 'eur',
  metadata: { order_id: '1' }, client_reference_id: '1', payment_intent: 'pi_test_1',
};

function eventBody(id = `evt_${Math.random().toString(36).slice(2)}`, type = 'checkout.session.completed'): string {
  return JSON.stringify({ id, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object: paidSession } });
}

function sign(payload: string, options: { secret?: string; timestamp?: number } = {}): string {
  return signer.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? config.stripe.webhookSecret, timestamp: options.timestamp });
}

async function setup(t: Test, withBoss = true) {
  const database = await freshDatabase(t, { poolSize: 8 });
  const boss = withBoss ? await startTestBoss(t, database.url) : undefined;
  const app = await build(config, { pool: database.pool, db: database.db, log: testLog, boss });
  t.teardown(() => app.close());
  const deliver = (payload: string | Buffer, headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } });
  return { ...database, boss, app, deliver };
}

t.test('a signed event is stored and its job enqueued; no sign-in is needed', async (t) => {
  const { pool, boss, deliver } = await setup(t);
  const body = eventBody('evt_one');
  const response = await deliver(body, { 'stripe-signature': sign(body) });
  t.equal(response.statusCode, 200);
  t.same(response.json(), { received: true, duplicate: false });
  const { rows } = await pool.query(`select id::text, provider, event_id, type, payload, processed_at from webhook_events`);
  t.equal(rows.length, 1);
  t.match(rows[0], { provider: 'stripe', event_id: 'evt_one', type: 'checkout.session.completed', processed_at: null });
  t.same(rows[0].payload, JSON.parse(body));
  const jobs = await jobsOf(boss!, Queues.processStripeEvent);
  t.same(jobs.map((job) => job.data), [{ webhookEventId: rows[0].id }]);
});

t.test('a redelivered event answers 200 and stores and enqueues nothing more', async (t) => {
  const { pool, boss, deliver } = await setup(t);
  const body = eventBody('evt_twice');
  t.equal((await deliver(body, { 'stripe-signature': sign(body) })).statusCode, 200);
  const again = await deliver(body, { 'stripe-signature': sign(body) });
  t.equal(again.statusCode, 200);
  t.same(again.json(), { received: true, duplicate: true });
  t.equal(await count(pool, `select from webhook_events`), 1);
  t.equal((await jobsOf(boss!, Queues.processStripeEvent)).length, 1);
});

t.test('concurrent deliveries of one event store it once and enqueue one job', async (t) => {
  const { pool, boss, deliver } = await setup(t);
  const body = eventBody('evt_race');
  const responses = await Promise.all(Array.from({ length: 10 }, () => deliver(body, { 'stripe-signature': sign(body) })));
  t.same(responses.map((r) => r.statusCode), Array(10).fill(200));
  t.equal(responses.filter((r) => r.json().duplicate === false).length, 1);
  t.equal(await count(pool, `select from webhook_events`), 1);
  t.equal((await jobsOf(boss!, Queues.processStripeEvent)).length, 1);
});

t.test('a forged signature is refused with a sentence and nothing is stored', async (t) => {
  const { pool, deliver } = await setup(t);
  const body = eventBody();
  const response = await deliver(body, { 'stripe-signature': sign(body, { secret: 'whsec_someone_else_entirely' }), accept: 'application/json' });
  t.equal(response.statusCode, 400);
  t.match(response.body, 'does not match this body');
  const tampered = await deliver(body.replace('checkout.session.completed', 'charge.refunded'), { 'stripe-signature': sign(body) });
  t.equal(tampered.statusCode, 400, 'a body changed after signing is refused');
  t.equal(await count(pool, `select from webhook_events`), 0);
});

t.test('a signature older than 300 seconds is refused as a replay', async (t) => {
  const { pool, deliver } = await setup(t);
  const body = eventBody();
  const response = await deliver(body, { 'stripe-signature': sign(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }) });
  t.equal(response.statusCode, 400);
  t.match(response.body, 'more than 300 seconds away from now');
  const recent = await deliver(body, { 'stripe-signature': sign(body, { timestamp: Math.floor(Date.now() / 1000) - 250 }) });
  t.equal(recent.statusCode, 200, 'within the tolerance it is accepted');
  t.equal(await count(pool, `select from webhook_events`), 1);
});

t.test('a missing signature or an empty body is refused', async (t) => {
  const { pool, deliver } = await setup(t);
  const missing = await deliver(eventBody(), {});
  t.equal(missing.statusCode, 400);
  t.match(missing.body, 'Stripe-Signature header is missing');
  t.equal((await deliver('', { 'stripe-signature': sign('') })).statusCode, 400);
  t.equal(await count(pool, `select from webhook_events`), 0);
});

t.test('a body over 256 KB is refused with 413 and nothing is stored', async (t) => {
  const { pool, deliver } = await setup(t);
  const body = JSON.stringify({ id: 'evt_big', object: 'event', type: 'x', padding: 'x'.repeat(300 * 1024) });
  const response = await deliver(body, { 'stripe-signature': sign(body) });
  t.equal(response.statusCode, 413);
  t.equal(await count(pool, `select from webhook_events`), 0);
});

t.test('without a job queue the event is still stored, for the reconcile job to enqueue', async (t) => {
  const { pool, deliver } = await setup(t, false);
  const body = eventBody('evt_no_boss');
  t.equal((await deliver(body, { 'stripe-signature': sign(body) })).statusCode, 200);
  t.equal(await count(pool, `select from webhook_events where processed_at is null`), 1);
});

t.test('other routes still need a session', async (t) => {
  const { app } = await setup(t, false);
  const response = await app.inject({ method: 'GET', url: '/api/stats/agents' });
  t.equal(response.statusCode, 401);
});

t.test('a signature dated more than 300 seconds in the future is refused too', async (t) => {
  const { pool, deliver } = await setup(t);
  const body = eventBody();
  const now = Math.floor(Date.now() / 1000);
  const future = await deliver(body, { 'stripe-signature': sign(body, { timestamp: now + 600 }) });
  t.equal(future.statusCode, 400, 'ten minutes ahead: a signature made for a later replay');
  t.match(future.body, 'more than 300 seconds away from now');
  // Just past the tolerance, with room for the clock to tick: the server reads
  // its own now later, and a second boundary crossed in between (a loaded CI
  // machine) turned +301 into 300 s away, accepted.
  t.equal((await deliver(body, { 'stripe-signature': sign(body, { timestamp: Math.floor(Date.now() / 1000) + 305 }) })).statusCode, 400, 'five seconds past the tolerance');
  t.equal(await count(pool, `select from webhook_events`), 0);
  t.equal((await deliver(body, { 'stripe-signature': sign(body, { timestamp: now + 250 }) })).statusCode, 200, 'a clock a little ahead is within the tolerance');
});

t.test('several v1 signatures (a secret being rotated): one matching is enough, none matching is refused', async (t) => {
  const { deliver } = await setup(t, false);
  const body = eventBody();
  const theirs = sign(body, { secret: 'whsec_the_old_one' });
  const ours = sign(body).split(',').find((part) => part.startsWith('v1='))!;
  t.equal((await deliver(body, { 'stripe-signature': `${theirs},${ours}` })).statusCode, 200);
  t.equal((await deliver(body, { 'stripe-signature': theirs })).statusCode, 400);
});

async function scrape(app: Awaited<ReturnType<typeof setup>>['app']) {
  const response = await app.inject({ method: 'GET', url: '/metrics' });
  return parseExposition(response.body);
}

t.test('a signed event with NUL in its strings is stored, NUL replaced with U+FFFD, its bytes kept, and its job enqueued', async (t) => {
  const { pool, boss, deliver } = await setup(t);
  // \u0000 as JSON escapes, as the gateway would send a name typed with a NUL; jsonb refuses them.
  const body = JSON.stringify({
    id: 'evt_nul\u0000', object: 'event', type: 'checkout.session.completed',
    data: { object: { ...paidSession, customer_details: { name: 'Ann\u0000Buyer' }, metadata: { order_id: '1', 'note\u0000': 'x\ud800' } } },
  });
  t.match(body, /\\u0000/, 'the body carries the escape');
  const response = await deliver(body, { 'stripe-signature': sign(body) });
  t.equal(response.statusCode, 200);
  t.same(response.json(), { received: true, duplicate: false });
  const { rows } = await pool.query(`select id::text, event_id, payload, raw_body, refused_reason, processed_at from webhook_events`);
  t.equal(rows.length, 1);
  t.equal(rows[0].event_id, 'evt_nul\ufffd');
  t.equal(rows[0].payload.data.object.customer_details.name, 'Ann\ufffdBuyer');
  t.same(rows[0].payload.data.object.metadata, { order_id: '1', 'note\ufffd': 'x\ufffd' }, 'keys too, and a lone surrogate (jsonb refuses it as well)');
  t.ok(Buffer.from(body).equals(rows[0].raw_body), 'the signed bytes are kept, the payload being no faithful copy');
  t.match(rows[0], { refused_reason: null, processed_at: null });
  t.same((await jobsOf(boss!, Queues.processStripeEvent)).map((job) => job.data), [{ webhookEventId: rows[0].id }]);
  t.equal((await deliver(body, { 'stripe-signature': sign(body) })).json().duplicate, true, 'a redelivery is the same event');
});

t.test('a faithful event keeps no raw copy; a number beyond a double is stored as null and the bytes are kept', async (t) => {
  const { pool, deliver } = await setup(t, false);
  const plain = eventBody('evt_plain');
  t.equal((await deliver(plain, { 'stripe-signature': sign(plain) })).statusCode, 200);
  const huge = eventBody('evt_huge').replace('"amount_total":1250', '"amount_total":1250,"extra":1e999999');
  t.equal((await deliver(huge, { 'stripe-signature': sign(huge) })).statusCode, 200);
  const { rows } = await pool.query(`select event_id, raw_body is not null as kept, payload -> 'data' -> 'object' -> 'extra' as extra from webhook_events order by id`);
  t.same(rows, [{ event_id: 'evt_plain', kept: false, extra: null }, { event_id: 'evt_huge', kept: true, extra: null }]);
});

t.test('a signed event without data is stored as refused, acknowledged, counted and alerted, and no job runs it', async (t) => {
  const { app, pool, boss, deliver } = await setup(t);
  const before = (await scrape(app)).value('tanktop_webhook_rejects_total', { provider: 'stripe', reason: 'malformed' }) ?? 0;
  const body = JSON.stringify({ id: 'evt_no_data', object: 'event', type: 'checkout.session.completed' });
  const response = await deliver(body, { 'stripe-signature': sign(body) });
  t.equal(response.statusCode, 200, 'acknowledged: the gateway would resend an error status for three days, and it would never become an event');
  t.same(response.json(), { received: true, duplicate: false, refused: 'data.object is missing or not an object' });
  const { rows } = await pool.query(`select event_id, type, outcome, refused_reason, processed_at is not null as processed, payload, raw_body from webhook_events`);
  t.match(rows, [{ event_id: 'evt_no_data', type: 'checkout.session.completed', outcome: 'refused', refused_reason: 'data.object is missing or not an object', processed: true, raw_body: null }]);
  t.same(rows[0].payload, JSON.parse(body), 'kept for a person');
  t.same(await jobsOf(boss!, Queues.processStripeEvent), [], 'no job');

  const again = await deliver(body, { 'stripe-signature': sign(body) });
  t.same(again.json(), { received: true, duplicate: true, refused: 'data.object is missing or not an object' });
  t.equal(await count(pool, `select from webhook_events`), 1);

  const metrics = await scrape(app);
  t.equal(metrics.value('tanktop_webhook_rejects_total', { provider: 'stripe', reason: 'malformed' }), before + 2, 'each delivery counted');
  t.equal(metrics.value('tanktop_webhook_events', { provider: 'stripe', status: 'refused' }), 1, 'the stored row shows as refused');
  t.equal(metrics.value('tanktop_webhook_events', { provider: 'stripe', status: 'received' }), 0, 'not as waiting for its job');
  const { rows: alerts } = await pool.query(`select incident_key, severity, title, occurrences, order_id from alerts`);
  t.match(alerts, [{ incident_key: 'webhook_refused:stripe', severity: 'warning', title: /refused: data.object is missing/, occurrences: 1 }], 'one alert: the redelivery stored nothing new');
  t.equal((await jobsOf(boss!, ALERT_SEND_QUEUE)).length, 1);
});

t.test('signed events of shapes the processor cannot apply are refused with what is wrong', async (t) => {
  const { pool, deliver } = await setup(t, false);
  const event = (object: object, type = 'checkout.session.completed') => JSON.stringify({ id: `evt_${Math.random().toString(36).slice(2)}`, type, data: { object } });
  const cases: [string, string][] = [
    [event({ ...paidSession, amount_total: 12.5 }), 'data.object.amount_total is not a whole amount'],
    [event({ ...paidSession, amount_total: '1250' }), 'data.object.amount_total is not a whole amount'],
    [event({ ...paidSession, amount_total: 1e13 }), 'data.object.amount_total is not a whole amount'],
    [event({ ...paidSession, currency: null }), 'data.object.currency is not a three-letter currency'],
    [event({ ...paidSession, metadata: { order_id: 7 } }), 'data.object.metadata.order_id is not a string'],
    [event({ ...paidSession, id: 42 }), 'data.object.id is not a non-empty string'],
    [event({ id: 'pi_1', amount: -5, currency: 'eur' }, 'payment_intent.succeeded'), 'data.object.amount is not a whole amount'],
    [event({ id: 'ch_1', payment_intent: 'pi_1', amount_refunded: 100 }, 'charge.refunded'), 'data.object.refunded is not a boolean'],
    [event({ id: 'pi_1', last_payment_error: 'declined' }, 'payment_intent.payment_failed'), 'data.object.last_payment_error is not an error with a message'],
    [JSON.stringify({ id: 'evt_no_type', data: {} }), 'the event has no usable id and type (strings of 1 to 255 characters)'],
    [JSON.stringify({ id: 'x'.repeat(3000), type: 'checkout.session.completed', data: { object: paidSession } }), 'the event has no usable id and type (strings of 1 to 255 characters)'],
    [JSON.stringify(['not', 'an', 'object']), 'the body is not a JSON object'],
    ['{"id": "evt_cut_short", "type": ', 'the body is not JSON'],
    [`${'['.repeat(5000)}${']'.repeat(5000)}`, 'the body is nested deeper than 64 levels'],
  ];
  for (const [body, reason] of cases) {
    const response = await deliver(body, { 'stripe-signature': sign(body) });
    t.same([response.statusCode, response.json().refused], [200, reason], reason);
  }
  t.equal(await count(pool, `select from webhook_events where outcome = 'refused' and processed_at is not null`), cases.length, 'each stored, as refused');
  const { rows: [cut] } = await pool.query(`select event_id, type, payload, convert_from(raw_body, 'UTF8') as raw from webhook_events where refused_reason = 'the body is not JSON'`);
  t.match(cut, { event_id: /^sha256:[0-9a-f]{64}$/, type: '', payload: null, raw: '{"id": "evt_cut_short", "type": ' }, 'no id to key it by: keyed by the body, which a redelivery repeats');
  const cutShort = '{"id": "evt_cut_short", "type": ';
  t.equal((await deliver(cutShort, { 'stripe-signature': sign(cutShort) })).json().duplicate, true);
});

t.test('an unknown but well-formed event type is stored with its job, as before', async (t) => {
  const { pool, boss, deliver } = await setup(t);
  const body = JSON.stringify({ id: 'evt_customer', type: 'customer.created', data: { object: { id: 'cus_1' } } });
  t.same((await deliver(body, { 'stripe-signature': sign(body) })).json(), { received: true, duplicate: false });
  t.equal(await count(pool, `select from webhook_events where refused_reason is null and processed_at is null`), 1);
  t.equal((await jobsOf(boss!, Queues.processStripeEvent)).length, 1);
  const bare = JSON.stringify({ id: 'evt_bare', type: 'customer.deleted' });
  t.same((await deliver(bare, { 'stripe-signature': sign(bare) })).json(), { received: true, duplicate: false }, 'without data: nothing of it is read');
});
