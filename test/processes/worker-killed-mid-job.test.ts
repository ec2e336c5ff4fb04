import t from 'tap';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { waitFor } from '../helpers/server-process.ts';
import { expectEveryEffectOnce } from './order-effects.ts';
import { checkoutOn, processFleet } from './process-fleet.ts';

/** Workers look for jobs of killed workers every 2 s (JOB_SUPERVISE_SECONDS); the queues' heartbeat is 15 s. */
const WORKER_ENV = { JOB_SUPERVISE_SECONDS: '2', SUPPLIER_TIMEOUT_MS: '30000' };

t.test('a worker SIGKILLed in the middle of a job: the other worker finishes it, and its effect happens once', async (t) => {
  const fleet = await processFleet(t);
  const web = await fleet.web('web');
  await fleet.sendGatewayWebhooksTo(web);
  await fleet.sendSupplierWebhooksTo(web);
  // The supplier creates the order but holds its answer for ten minutes: the submit job is in flight until killed.
  await fleet.supplier.addFaults({ acceptThenTimeout: { count: 1, delayMs: 600_000 } });
  const first = await fleet.worker('worker-1', WORKER_ENV);

  const { orderId, sessionId } = await checkoutOn(fleet, web.url, 'kill@example.com', 2);
  await fleet.gateway.pay(sessionId);
  // Everything before the submission is done (so the kill hits that job alone): paid, invoiced, mailed.
  await waitFor('the invoice e-mail sent', async () => (await fleet.messages()).length === 1, 90_000);
  const held = await waitFor('the supplier holding the answer to our POST', async () =>
    (await fleet.supplier.requests()).find((call) => call.method === 'POST' && call.status === null), 30_000);
  const { rows: [active] } = await fleet.pool.query<{ id: string; state: string; retry_count: number }>(
    `select id, state, retry_count from pgboss.job where name = $1`, [SupplierQueues.submitOrder]);
  t.match(active, { state: 'active', retry_count: 0 }, 'the submit job is active on worker 1, mid-call');

  // A second worker joins; then worker 1 dies without a word.
  const second = await fleet.worker('worker-2', WORKER_ENV);
  first.child.kill('SIGKILL');
  t.match(await first.exited, { signal: 'SIGKILL' }, 'worker 1 killed');
  const killedAt = Date.now();

  // (The order may already show as submitted: the supplier's webhook about the order it created says so.)
  const done = await waitFor('the submit job completed by worker 2', async () => {
    const { rows } = await fleet.pool.query<{ id: string; state: string; retry_count: number }>(
      `select id, state, retry_count from pgboss.job where name = $1 and state = 'completed'`, [SupplierQueues.submitOrder]);
    return rows[0];
  }, 90_000);
  t.comment(`worker 2 finished the job ${Date.now() - killedAt} ms after the kill (15 s heartbeat, 2 s supervision, the retry's backoff)`);
  t.match(done, { id: active!.id, retry_count: 1 }, 'the same job, retried once after its heartbeat was missed');
  const posts = (await fleet.supplier.requests()).filter((call) => call.method === 'POST');
  t.ok(posts.every((post) => post.idempotencyKey === held.idempotencyKey), 'every POST carried the one idempotency key');

  await expectEveryEffectOnce(t, fleet, [{ orderId, quantity: 2 }]);
  t.notMatch(second.stderr(), /"level":(50|60)/, 'worker 2 logged no error');
  second.child.kill('SIGTERM');
  t.match(await second.exited, { code: 0 }, 'worker 2 stops cleanly');
});
