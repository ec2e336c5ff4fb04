import t from 'tap';
import { ALERT_SEND_DEAD_LETTER_QUEUE, ALERT_SEND_QUEUE } from '../../src/alerts/alerts.queues.ts';
import { deadLetterQueuesToAlertOn } from '../../src/alerts/alerts.workers.ts';
import { sourceQueueOf } from '../../src/alerts/dead-letter-alert.job.ts';
import { EMAIL_SEND_DEAD_LETTER_QUEUE } from '../../src/email/email.queues.ts';
import { allQueues } from '../../src/jobs/all-queues.ts';
import { startWorkers } from '../../src/jobs/start-workers.ts';
import { deadLetterOf, Queues } from '../../src/orders/order-queues.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { testLog } from '../helpers/database.ts';
import { insertOrder, makeProducts } from '../helpers/order-fixtures.ts';
import { EMAIL_ADDRESS, messageText, startAlertHarness, waitFor } from './alert-harness.ts';

t.test('every dead-letter queue of the application is alerted on, but alert__send\'s own and those excepted', async (t) => {
  const queues = deadLetterQueuesToAlertOn(allQueues);
  t.ok(queues.includes(EMAIL_SEND_DEAD_LETTER_QUEUE));
  for (const queue of Object.values(Queues)) t.ok(queues.includes(deadLetterOf(queue)), `${deadLetterOf(queue)}`);
  t.notOk(queues.includes(ALERT_SEND_DEAD_LETTER_QUEUE), 'an alert that could not be sent raises no alert (the same channel, round and round)');
  t.notOk(deadLetterQueuesToAlertOn(allQueues, [deadLetterOf(Queues.refundOrder)]).includes(deadLetterOf(Queues.refundOrder)), 'a queue that alerts on its own can be left out');
  t.equal(sourceQueueOf('order__refund__dead_letter'), 'order__refund');
  t.equal(sourceQueueOf('email__send_dead_letter'), 'email__send');
});

t.test('a job reaching a dead-letter queue raises a critical alert naming its queue, job and order; its failed record stays in its queue', async (t) => {
  const harness = await startAlertHarness(t);
  const { pool, db, boss, config, channel } = harness;
  const workers = await startWorkers({
    boss, db, stripe: createStripeClient(config.stripe), config, log: testLog, pollingIntervalSeconds: 0.5, schedule: false,
  });
  t.teardown(() => workers.stop());
  const { mug } = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: mug });
  const { rows: [order] } = await pool.query<{ number: string }>(`select number from orders where id = $1`, [orderId]);

  // Jobs that give up at once, before any worker takes them (they are not due for an hour).
  const refundJob = await boss.send(Queues.refundOrder, { orderId, reason: 'test' }, { retryLimit: 0, startAfter: 3600 });
  await boss.fail(Queues.refundOrder, refundJob!, { message: 'the gateway refused: card of ann@example.com expired' });
  const alertJob = await boss.send(ALERT_SEND_QUEUE, { alertId: '999999' }, { retryLimit: 0, startAfter: 3600 });
  await boss.fail(ALERT_SEND_QUEUE, alertJob!, { message: 'the alert webhook answered 503' });

  const incidentKey = `dead_letter:${Queues.refundOrder}:${refundJob}`;
  const alert = await waitFor('the dead-letter alert to be sent', async () => {
    const row = await db.selectFrom('alerts').selectAll().where('incident_key', '=', incidentKey).executeTakeFirst();
    return row?.status === 'sent' && row;
  });
  t.match(alert, { severity: 'critical', order_id: orderId, occurrences: 1 });
  const [message, ...others] = await channel.messages();
  t.same(others, [], 'one post');
  const text = messageText(message!);
  t.match(text, `A ${Queues.refundOrder} job gave up (order ${orderId})`);
  t.match(text, `${order!.number} (id ${orderId})`);
  t.match(text, `Job ${refundJob} of ${Queues.refundOrder} failed its last attempt (attempt 1) and was moved to ${deadLetterOf(Queues.refundOrder)}`);
  t.notMatch(text, EMAIL_ADDRESS, 'the job\'s error (which quotes an address) is not in the alert');
  t.notMatch(text, 'expired');

  const [original] = await boss.findJobs(Queues.refundOrder, { id: refundJob! });
  t.equal(original?.state, 'failed', 'the original job stays in its queue as failed: what the operations page lists and retries');
  const [copy] = await boss.findJobs(deadLetterOf(Queues.refundOrder));
  t.match(copy, { state: 'completed', sourceName: Queues.refundOrder, sourceId: refundJob }, 'the dead-letter copy is worked off');

  const [alertCopy] = await boss.findJobs(ALERT_SEND_DEAD_LETTER_QUEUE);
  t.equal(alertCopy?.state, 'created', 'alert__send\'s dead letters are left alone');
  const { rows } = await pool.query(`select incident_key from alerts where incident_key like 'dead_letter:alert__send%'`);
  t.same(rows, [], 'and raise no alert');
});
