import t, { type Test } from 'tap';
import Stripe from 'stripe';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { jobsOf, startTestBoss } from '../helpers/job-queue.ts';
import { count } from '../helpers/order-fixtures.ts';

const config = loadConfig({});
const signer = new Stripe(config.stripe.secretKey);

function eventBody(id = `evt_${Math.random().toString(36).slice(2)}`, type = 'checkout.session.completed'): string {
  return JSON.stringify({ id, object: 'event', type, created: Math.floor(Date.now() / 1000), data: { object: { id: 'cs_test_1', object: 'checkout.session' } } });
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
  t.equal((await deliver(body, { 'stripe-signature': sign(body, { timestamp: now + 301 }) })).statusCode, 400);
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
