import t from 'tap';
import { ALERT_SEND_DEAD_LETTER_QUEUE } from '../../src/alerts/alerts.queues.ts';
import { raiseAlert } from '../../src/alerts/raise-alert.ts';
import { insertOrder, makeProducts } from '../helpers/order-fixtures.ts';
import { EMAIL_ADDRESS, messageText, quickRetries, startAlertHarness, waitFor, type AlertHarness } from './alert-harness.ts';

const supplierDown = (orderId: string) => ({
  incidentKey: `supplier_failed:${orderId}`, severity: 'critical' as const, title: `Supplier unreachable for order ${orderId}`,
  text: 'The supplier did not answer through every retry. Retry it from the operations page.', orderId,
});

async function sent(harness: AlertHarness, alertId: string) {
  return waitFor(`alert ${alertId} to be sent`, async () => {
    const row = await harness.alertRow(alertId);
    return row.status === 'sent' && row;
  });
}

t.test('a raised alert is posted once in Slack format, with the order id and number and no e-mail address', async (t) => {
  const harness = await startAlertHarness(t);
  const { pool, db, boss, channel } = harness;
  const { mug } = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: mug });
  const { rows: [order] } = await pool.query<{ number: string; customer_email: string }>(`select number, customer_email from orders where id = $1`, [orderId]);
  const raised = await db.transaction().execute((trx) => raiseAlert(trx, boss, supplierDown(orderId)));
  await harness.startSender();

  const row = await sent(harness, raised.alertId);
  t.match(row, { attempts: 1, last_error: null });
  t.ok(row.sent_at instanceof Date);
  const messages = await channel.messages();
  t.equal(messages.length, 1, 'one POST');
  const [message] = messages;
  t.equal(message!.hook, 'tanktop');
  t.same(Object.keys(message!.payload).sort(), ['blocks', 'text'], 'Slack incoming-webhook JSON: text and blocks');
  t.same(message!.blocks.map((block) => block.type), ['header', 'section', 'section', 'context']);
  t.equal(message!.blocks[0]!.text!.type, 'plain_text');
  t.equal(message!.blocks[0]!.text!.text, `:rotating_light: Supplier unreachable for order ${orderId}`, 'severity emoji and title in the header');
  const all = messageText(message!);
  t.match(all, `${order!.number} (id ${orderId})`, 'the order by number and id');
  t.match(all, '*Occurrences*\n1');
  t.match(all, `supplier_failed:${orderId}`, 'the incident key');
  t.match(all, 'Retry it from the operations page.');
  t.notMatch(all, EMAIL_ADDRESS, 'no e-mail address');
  t.notMatch(JSON.stringify(message!.payload), order!.customer_email);
  t.notMatch(JSON.stringify(message!.payload), 'Ann Buyer', 'nothing else from the order: not the customer\'s name');
  await waitFor('the job to complete', async () => (await harness.sendJobs()).every((job) => job.state === 'completed'));
});

t.test('the same incident raised five times before the worker runs is posted once, with five occurrences', async (t) => {
  const harness = await startAlertHarness(t);
  let alertId = '';
  for (let i = 0; i < 5; i++) alertId = (await harness.raise(supplierDown('7'))).alertId;
  await harness.startSender();
  const row = await sent(harness, alertId);
  t.equal(row.occurrences, 5);
  const messages = await harness.channel.messages();
  t.equal(messages.length, 1, 'one POST');
  t.match(messageText(messages[0]!), /\*Occurrences\*\n5 \(first /);
  t.match(messages[0]!.text, '5 times');
  t.equal((await harness.sendJobs()).length, 1);
});

t.test('raised again within the re-notify window it is counted, not posted; after the window it is posted again', async (t) => {
  const harness = await startAlertHarness(t, { env: { ALERT_RENOTIFY_MINUTES: '5' } });
  await harness.startSender();
  const first = await harness.raise(supplierDown('8'));
  const row = await sent(harness, first.alertId);
  t.equal(row.renotify_after!.getTime() - row.sent_at!.getTime(), 5 * 60_000, 'the window comes from ALERT_RENOTIFY_MINUTES');

  const again = await harness.raise(supplierDown('8'));
  t.match(again, { alertId: first.alertId, occurrences: 2, notifies: false });
  t.match(await harness.alertRow(first.alertId), { status: 'sent', occurrences: 2 });
  t.equal((await harness.sendJobs()).length, 1, 'no second job');

  // Six minutes pass.
  await harness.pool.query(`update alerts set sent_at = sent_at - interval '6 minutes', renotify_after = renotify_after - interval '6 minutes'`);
  const later = await harness.raise(supplierDown('8'));
  t.match(later, { occurrences: 3, notifies: true });
  const resent = await waitFor('the second post', async () => {
    const messages = await harness.channel.messages();
    return messages.length === 2 && messages;
  });
  t.match(messageText(resent[0]!), /\*Occurrences\*\n3 \(first /, 'the newest post tells every occurrence');
  t.match(await sent(harness, first.alertId), { occurrences: 3, attempts: 1 });
});

t.test('a warning that was sent comes back critical: it is posted again at once', async (t) => {
  const harness = await startAlertHarness(t);
  await harness.startSender();
  const warning = await harness.raise({ incidentKey: 'supplier_slow:9', severity: 'warning', title: 'The supplier is slow for order 9', orderId: 9 });
  await sent(harness, warning.alertId);
  t.match(await harness.raise({ incidentKey: 'supplier_slow:9', severity: 'warning', title: 'The supplier is slow for order 9' }), { notifies: false });
  t.match(await harness.raise({ incidentKey: 'supplier_slow:9', severity: 'critical', title: 'The supplier is down for order 9' }), { notifies: true });
  const messages = await waitFor('the critical post', async () => {
    const all = await harness.channel.messages();
    return all.length === 2 && all;
  });
  t.match(messages[0]!.blocks[0]!.text!.text, /^:rotating_light: The supplier is down/);
  t.match(messages[1]!.blocks[0]!.text!.text, /^:warning: The supplier is slow/);
});

t.test('25 distinct incidents with a limit of 20 a minute: 20 posted, 5 suppressed; a suppressed one raised again is posted', async (t) => {
  const harness = await startAlertHarness(t, { env: { ALERT_MAX_PER_MINUTE: '20' } });
  const ids: string[] = [];
  for (let i = 1; i <= 25; i++) ids.push((await harness.raise({ incidentKey: `burst:${i}`, severity: 'warning', title: `Burst ${i}` })).alertId);
  // Four senders at once: the rate limit's lock makes them take turns, so the count stays exact.
  await harness.startSender({ concurrency: 4 });
  await waitFor('every job to complete', async () => {
    const jobs = await harness.sendJobs();
    return jobs.length === 25 && jobs.every((job) => job.state === 'completed');
  }, 60_000);
  const { rows } = await harness.pool.query<{ status: string; n: number }>(`select status, count(*)::int as n from alerts group by status order by status`);
  t.same(rows, [{ status: 'sent', n: 20 }, { status: 'suppressed', n: 5 }]);
  t.equal((await harness.channel.messages()).length, 20, '20 posts');

  const { rows: [suppressed] } = await harness.pool.query<{ incident_key: string; id: string }>(`select id, incident_key from alerts where status = 'suppressed' limit 1`);
  // A minute passes: the rate limit counts the last one only.
  await harness.pool.query(`update alerts set sent_at = sent_at - interval '2 minutes', renotify_after = renotify_after - interval '2 minutes' where status = 'sent'`);
  const again = await harness.raise({ incidentKey: suppressed!.incident_key, severity: 'warning', title: 'Burst again' });
  t.match(again, { alertId: suppressed!.id, notifies: true, occurrences: 2 }, 'the next raise of a suppressed incident notifies');
  await sent(harness, suppressed!.id);
  t.equal((await harness.channel.messages()).length, 21);
});

t.test('with the endpoint down (503) the alert is retried, and delivered once when it is back', async (t) => {
  const harness = await startAlertHarness(t, { sendQueue: quickRetries });
  await harness.channel.faults({ down: true });
  const { alertId } = await harness.raise(supplierDown('10'));
  await harness.startSender();
  const failing = await waitFor('two failed attempts', async () => {
    const row = await harness.alertRow(alertId);
    return row.attempts >= 2 && row;
  });
  t.equal(failing.status, 'queued', 'still queued while retries remain');
  t.match(failing.last_error, 'the alert webhook answered 503: service_unavailable');
  t.notMatch(failing.last_error, '/hooks/', 'the webhook URL is a secret: not in the error');

  await harness.channel.faults({ down: false });
  const row = await sent(harness, alertId);
  t.ok(row.attempts >= 3, `delivered on attempt ${row.attempts}`);
  t.equal((await harness.channel.messages()).length, 1, 'exactly one post');
  t.equal((await harness.sendJobs()).length, 1, 'one job, retried');
});

t.test('a 500 and a webhook that does not answer in time are retried like a 503', async (t) => {
  const harness = await startAlertHarness(t, { sendQueue: quickRetries, env: { ALERT_TIMEOUT_MS: '500' } });
  await harness.channel.faults({ failNext: 1, slowMs: 0 });
  const { alertId } = await harness.raise(supplierDown('11'));
  await harness.startSender();
  await sent(harness, alertId);
  t.match(await harness.alertRow(alertId), { attempts: 2, last_error: 'the alert webhook answered 500: internal_error' });

  await harness.channel.faults({ slowMs: 1500 });
  const slow = await harness.raise(supplierDown('12'));
  const timedOut = await waitFor('a timed-out attempt', async () => {
    const row = await harness.alertRow(slow.alertId);
    return row.attempts >= 1 && row;
  });
  t.equal(timedOut.last_error, 'the alert webhook did not answer within 500 ms');
  await harness.channel.faults({ slowMs: 0 });
  await sent(harness, slow.alertId);
  t.equal((await harness.channel.messages()).length, 2, 'a timed-out post is not recorded: one post per alert');
});

t.test('with the endpoint down for good the row is failed and the job dead-lettered; the business transaction that raised it committed at once', async (t) => {
  const harness = await startAlertHarness(t, { sendQueue: { ...quickRetries, retryLimit: 1 } });
  const { pool, db, boss, channel } = harness;
  await channel.faults({ down: true });
  await harness.startSender();
  const { mug } = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: mug });

  const started = performance.now();
  const raised = await db.transaction().execute(async (trx) => {
    await trx.updateTable('orders').set({ needs_review: true, review_reason: 'supplier unreachable' }).where('id', '=', orderId).execute();
    return raiseAlert(trx, boss, supplierDown(orderId));
  });
  const elapsed = performance.now() - started;
  t.ok(elapsed < 1000, `the business transaction did not wait for the channel (${Math.round(elapsed)} ms)`);
  const { rows: [order] } = await pool.query(`select needs_review, review_reason from orders where id = $1`, [orderId]);
  t.same(order, { needs_review: true, review_reason: 'supplier unreachable' }, 'its own writes committed');

  const row = await waitFor('the row to be failed', async () => {
    const current = await harness.alertRow(raised.alertId);
    return current.status === 'failed' && current;
  });
  t.match(row, { attempts: 2, sent_at: null, last_error: /503/ });
  const dead = await waitFor('the dead letter', async () => {
    const jobs = await boss.findJobs<{ alertId: string }>(ALERT_SEND_DEAD_LETTER_QUEUE);
    return jobs.length > 0 && jobs;
  });
  t.same(dead.map((job) => job.data), [{ alertId: raised.alertId }]);
  t.same(await channel.messages(), []);

  // The channel is back; the incident happens again: a failed alert notifies on its next raise.
  await channel.faults({ down: false });
  t.match(await harness.raise(supplierDown(orderId)), { notifies: true, occurrences: 2 });
  t.match(await sent(harness, raised.alertId), { attempts: 1 });
});

t.test('a job for an alert that does not exist, or one already sent, completes without posting', async (t) => {
  const harness = await startAlertHarness(t);
  const { alertId } = await harness.raise(supplierDown('13'));
  await harness.startSender();
  await sent(harness, alertId);
  await harness.boss.send('alert__send', { alertId });
  await harness.boss.send('alert__send', { alertId: '999999' });
  await waitFor('every job to complete', async () => {
    const jobs = await harness.sendJobs();
    return jobs.length === 3 && jobs.every((job) => job.state === 'completed');
  });
  t.equal((await harness.channel.messages()).length, 1);
});
