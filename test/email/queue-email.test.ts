import t from 'tap';
import { EMAIL_SEND_DEAD_LETTER_QUEUE, EMAIL_SEND_QUEUE } from '../../src/email/email.queues.ts';
import { registerEmailWorkers } from '../../src/email/email.workers.ts';
import { queueEmail } from '../../src/email/queue-email.ts';
import { testLog } from '../helpers/database.ts';
import { fakePdf, invoiceEmail, startEmailHarness, waitFor } from './email-harness.ts';

t.test('queueEmail in a rolled-back transaction leaves no outbox row and no job', async (t) => {
  const { database, boss, sendJobs } = await startEmailHarness(t);
  const rollback = new Error('the order failed');
  await t.rejects(database.db.transaction().execute(async (trx) => {
    const id = await queueEmail(trx, boss, invoiceEmail(1));
    t.ok(id, 'the row existed inside the transaction');
    t.equal((await trx.selectFrom('email_outbox').select('id').execute()).length, 1);
    throw rollback;
  }), rollback);
  t.equal((await database.db.selectFrom('email_outbox').select('id').execute()).length, 0, 'no row');
  t.same(await sendJobs(), [], 'no job');
});

t.test('queueEmail stores the rendered message and its attachment, and enqueues one job carrying its id', async (t) => {
  const { database, boss, sendJobs } = await startEmailHarness(t);
  const pdf = fakePdf();
  const id = await database.db.transaction().execute((trx) =>
    queueEmail(trx, boss, invoiceEmail(7, { attachments: [{ filename: 'INV-2026-000007.pdf', contentType: 'application/pdf', content: pdf }] })));
  const row = await database.db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  t.match(row, {
    dedupe_key: 'invoice:7', purpose: 'invoice', order_id: '7', recipient: 'ann@example.com',
    subject: 'Your invoice INV-2026-000007 for order #1007', status: 'queued', attempts: 0, last_error: null,
    message_id: `<email-${id}@tanktop.local>`, sent_at: null,
  });
  t.same(row.attachments, [{ filename: 'INV-2026-000007.pdf', contentType: 'application/pdf', contentBase64: pdf.toString('base64') }]);
  const jobs = await boss.findJobs(EMAIL_SEND_QUEUE);
  t.equal(jobs.length, 1);
  t.same(jobs[0]?.data, { emailId: id });
  t.equal(jobs[0]?.deadLetter, EMAIL_SEND_DEAD_LETTER_QUEUE, 'failed sends end in the dead-letter queue');
  t.equal((await sendJobs()).length, 1);
});

t.test('the same dedupe key twice gives one row, one job and one e-mail', async (t) => {
  const { database, boss, mailer, mailbox, sendJobs } = await startEmailHarness(t);
  const first = await database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(3)));
  const second = await database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(3, { to: 'other@example.com' })));
  t.equal(second, first, 'the second call returns the first message\'s id');
  t.equal((await database.db.selectFrom('email_outbox').select('id').execute()).length, 1, 'one row');
  t.equal((await sendJobs()).length, 1, 'one job');

  await registerEmailWorkers(boss, { db: database.db, mailer, log: testLog }, { concurrency: 2, pollingIntervalSeconds: 0.5 });
  await waitFor('the job to complete', async () => (await sendJobs()).every((job) => job.state === 'completed'));
  const messages = await mailbox.messages();
  t.equal(messages.length, 1, 'one e-mail');
  t.same(messages[0]?.to, ['ann@example.com'], 'sent to the first call\'s recipient');
});

t.test('two transactions queueing the same key at once give one row and one job', async (t) => {
  const { database, boss, sendJobs } = await startEmailHarness(t);
  const ids = await Promise.all([1, 2].map(() => database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(5)))));
  t.equal(ids[0], ids[1]);
  t.equal((await database.db.selectFrom('email_outbox').select('id').execute()).length, 1);
  t.equal((await sendJobs()).length, 1);
});
