import t, { type Test } from 'tap';
import { ALERT_SEND_QUEUE } from '../../src/alerts/alerts.queues.ts';
import { AlertContentError, raiseAlert } from '../../src/alerts/raise-alert.ts';
import { freshDatabase } from '../helpers/database.ts';
import { startTestBoss } from '../helpers/job-queue.ts';
import { insertOrder, makeProducts } from '../helpers/order-fixtures.ts';

async function setup(t: Test) {
  const database = await freshDatabase(t, { poolSize: 4 });
  const boss = await startTestBoss(t, database.url);
  const alerts = () => database.db.selectFrom('alerts').selectAll().orderBy('id').execute();
  const jobs = async () => (await boss.findJobs<{ alertId: string }>(ALERT_SEND_QUEUE)).map((job) => job.data);
  return { ...database, boss, alerts, jobs };
}

const supplierDown = { incidentKey: 'supplier_failed:42', severity: 'critical', title: 'Supplier unreachable for order 42', text: 'Retries ran out.', orderId: '42' } as const;

t.test('an alert raised in a committed transaction is one queued row and one alert__send job naming it', async (t) => {
  const { db, boss, alerts, jobs } = await setup(t);
  const raised = await db.transaction().execute((trx) => raiseAlert(trx, boss, supplierDown));
  t.match(raised, { occurrences: 1, notifies: true });
  const [row, ...others] = await alerts();
  t.same(others, []);
  t.match(row, {
    id: raised.alertId, incident_key: 'supplier_failed:42', severity: 'critical', title: 'Supplier unreachable for order 42',
    text: 'Retries ran out.', order_id: '42', occurrences: 1, status: 'queued', attempts: 0, sent_at: null,
  });
  t.same(await jobs(), [{ alertId: raised.alertId }], 'the job carries the row id and nothing else');
});

t.test('an alert raised in a transaction that rolls back leaves no row and no job', async (t) => {
  const { db, boss, alerts, jobs } = await setup(t);
  await t.rejects(db.transaction().execute(async (trx) => {
    await raiseAlert(trx, boss, supplierDown);
    throw new Error('the business step failed after raising');
  }), /business step failed/);
  t.same(await alerts(), []);
  t.same(await jobs(), []);
});

t.test('the same incident raised five times is one row with five occurrences and one job', async (t) => {
  const { db, boss, alerts, jobs } = await setup(t);
  const raised = [];
  for (let i = 1; i <= 5; i++) {
    raised.push(await db.transaction().execute((trx) => raiseAlert(trx, boss, { ...supplierDown, text: `Attempt ${i} failed.` })));
  }
  t.same(raised.map((r) => r.notifies), [true, false, false, false, false], 'only the first raise notifies while its notification waits');
  t.same(raised.map((r) => r.occurrences), [1, 2, 3, 4, 5]);
  const rows = await alerts();
  t.equal(rows.length, 1);
  t.match(rows[0], { occurrences: 5, text: 'Attempt 5 failed.', status: 'queued' }, 'the waiting notification will tell the latest');
  t.ok(rows[0]!.last_raised_at >= rows[0]!.first_raised_at);
  t.equal((await jobs()).length, 1);
});

t.test('raised with the database instead of a transaction, the row and its job are written together', async (t) => {
  const { db, boss, alerts, jobs } = await setup(t);
  const raised = await raiseAlert(db, boss, { incidentKey: 'unknown_supplier_order:SUP-778', severity: 'warning', title: 'A supplier webhook names an order we do not know' });
  t.match(await alerts(), [{ id: raised.alertId, order_id: null, text: '', severity: 'warning' }]);
  t.same(await jobs(), [{ alertId: raised.alertId }]);
});

t.test('a raise whose job cannot be enqueued writes no row either', async (t) => {
  const { db, alerts } = await setup(t);
  const brokenBoss = { send: async () => { throw new Error('queue unavailable'); } };
  await t.rejects(raiseAlert(db, brokenBoss, supplierDown), /queue unavailable/);
  t.same(await alerts(), [], 'one transaction: the upsert rolled back with the send');
});

t.test('an e-mail address in the key, title or text is refused before anything is written, without repeating it', async (t) => {
  const { db, pool, boss, alerts, jobs } = await setup(t);
  const { mug } = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: mug });
  const address = 'ann.buyer+shop@example.co.uk';
  for (const request of [
    { ...supplierDown, text: `The supplier refused the address of ${address}.` },
    { ...supplierDown, title: `Order for ${address} failed` },
    { ...supplierDown, incidentKey: `customer:${address}` },
  ]) {
    const error = await db.transaction().execute(async (trx) => {
      // The caller's own work goes on: the refusal comes before any SQL, so the transaction is intact.
      await trx.updateTable('orders').set({ needs_review: true, review_reason: 'checked' }).where('id', '=', orderId).execute();
      const refused = await raiseAlert(trx, boss, request).then(() => undefined, (e: unknown) => e);
      await trx.updateTable('orders').set({ review_reason: 'still usable' }).where('id', '=', orderId).execute();
      return refused;
    });
    t.ok(error instanceof AlertContentError, 'refused as a programming error');
    t.match((error as Error).message, /must not contain an e-mail address/);
    t.notMatch((error as Error).message, 'example', 'the message does not spread the address');
  }
  t.same(await alerts(), []);
  t.same(await jobs(), []);
  const { rows } = await pool.query(`select review_reason from orders where id = $1`, [orderId]);
  t.equal(rows[0].review_reason, 'still usable', 'the business transaction committed');
});

t.test('mistakes in a request are refused; long titles and texts are shortened, not refused', async (t) => {
  const { db, boss, alerts } = await setup(t);
  for (const [request, message] of [
    [{ ...supplierDown, incidentKey: 'supplier failed 42' }, /incidentKey/],
    [{ ...supplierDown, incidentKey: '' }, /incidentKey/],
    [{ ...supplierDown, severity: 'fatal' as 'critical' }, /severity/],
    [{ ...supplierDown, title: '   ' }, /title/],
    [{ ...supplierDown, orderId: 'TT-AB12-CD34' }, /orderId/],
    [{ ...supplierDown, orderId: '99999999999999999999' }, /orderId/],
  ] as const) {
    await t.rejects(raiseAlert(db, boss, request), message);
  }
  t.same(await alerts(), []);

  await raiseAlert(db, boss, { incidentKey: 'long:1', severity: 'warning', title: `Title ${'x'.repeat(300)}`, text: `Text\r\n${'y'.repeat(5000)}`, orderId: 7 });
  const [row] = await alerts();
  t.equal([...row!.title].length, 140);
  t.ok(row!.title.endsWith('…'));
  t.equal([...row!.text].length, 2000);
  t.ok(row!.text.startsWith('Text\ny'), 'line breaks are kept, as \\n');
  t.equal(row!.order_id, '7', 'a numeric order id is accepted');
});

t.test('a warning raised again as critical while its notification waits becomes critical; a later warning does not lower it', async (t) => {
  const { db, boss, alerts } = await setup(t);
  await raiseAlert(db, boss, { ...supplierDown, severity: 'warning' });
  await raiseAlert(db, boss, { ...supplierDown, severity: 'critical' });
  await raiseAlert(db, boss, { ...supplierDown, severity: 'warning' });
  t.match(await alerts(), [{ severity: 'critical', occurrences: 3 }]);
});
