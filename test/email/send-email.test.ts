import t from 'tap';
import type { JobWithMetadata } from 'pg-boss';
import { EMAIL_SEND_DEAD_LETTER_QUEUE, EMAIL_SEND_QUEUE, type SendEmailJobData } from '../../src/email/email.queues.ts';
import { registerEmailWorkers } from '../../src/email/email.workers.ts';
import { queueEmail } from '../../src/email/queue-email.ts';
import { sendEmailJob } from '../../src/email/send-email.job.ts';
import { testLog } from '../helpers/database.ts';
import { fakePdf, invoiceEmail, quickRetries, sha256, startEmailHarness, waitFor, type EmailHarness } from './email-harness.ts';

async function outboxRow(harness: EmailHarness, id: string) {
  return harness.database.db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

function startWorkers(harness: EmailHarness): Promise<string> {
  const { boss, database, mailer } = harness;
  return registerEmailWorkers(boss, { db: database.db, mailer, log: testLog }, { concurrency: 2, pollingIntervalSeconds: 0.5 });
}

async function allJobsCompleted(harness: EmailHarness): Promise<boolean> {
  const jobs = await harness.sendJobs();
  return jobs.length > 0 && jobs.every((job) => job.state === 'completed');
}

t.test('a queued invoice is delivered with its PDF byte for byte, and its row is marked sent', async (t) => {
  const harness = await startEmailHarness(t);
  const { database, boss, mailbox } = harness;
  const pdf = fakePdf();
  const id = await database.db.transaction().execute((trx) =>
    queueEmail(trx, boss, invoiceEmail(42, { attachments: [{ filename: 'INV-2026-000042.pdf', contentType: 'application/pdf', content: pdf }] })));
  await startWorkers(harness);

  const row = await waitFor('the row to be sent', async () => {
    const current = await outboxRow(harness, id);
    return current.status === 'sent' && current;
  });
  t.equal(row.attempts, 1);
  t.ok(row.sent_at instanceof Date);
  const messages = await mailbox.messages();
  t.equal(messages.length, 1);
  const [message] = messages;
  t.match(message, {
    messageId: `<email-${id}@tanktop.local>`,
    from: 'Tanktop <billing@tanktop.local>',
    to: ['ann@example.com'],
    subject: 'Your invoice INV-2026-000042 for order #1042',
  });
  t.match(message?.text, 'Your invoice INV-2026-000042 is');
  t.match(message?.html, '<strong>INV-2026-000042</strong>');
  t.same(message?.attachments, [{ filename: 'INV-2026-000042.pdf', contentType: 'application/pdf', size: pdf.length, sha256: sha256(pdf) }]);
  const download = await mailbox.attachment(message?.id ?? '', 0);
  t.equal(download.headers.get('content-type'), 'application/pdf');
  t.equal(sha256(new Uint8Array(await download.arrayBuffer())), sha256(pdf), 'the downloaded bytes are the attached bytes');
});

t.test('the handler run twice at once for the same e-mail sends it once', async (t) => {
  const harness = await startEmailHarness(t);
  const { database, boss, mailer, mailbox } = harness;
  const id = await database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(8)));
  const [job] = await boss.findJobs<SendEmailJobData>(EMAIL_SEND_QUEUE);
  t.ok(job);
  const handler = sendEmailJob({ db: database.db, mailer, log: testLog });
  const jobs = [job as JobWithMetadata<SendEmailJobData>];
  await Promise.all([handler(jobs), handler(jobs)]);
  await handler(jobs);
  t.equal((await mailbox.messages()).length, 1, 'one e-mail');
  t.match(await outboxRow(harness, id), { status: 'sent', attempts: 1 });
});

t.test('the same job sent again after delivery sends nothing more', async (t) => {
  const harness = await startEmailHarness(t);
  const { database, boss, mailbox } = harness;
  const id = await database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(9)));
  await startWorkers(harness);
  await waitFor('the e-mail to be sent', async () => (await outboxRow(harness, id)).status === 'sent');
  await boss.send(EMAIL_SEND_QUEUE, { emailId: id });
  await waitFor('both jobs to complete', async () => (await harness.sendJobs()).length === 2 && allJobsCompleted(harness));
  t.equal((await mailbox.messages()).length, 1, 'one e-mail');
  t.match(await outboxRow(harness, id), { status: 'sent', attempts: 1 });
});

t.test('with SMTP down, the job retries; once SMTP is back the e-mail is delivered exactly once', async (t) => {
  const harness = await startEmailHarness(t, quickRetries);
  const { database, boss, sandbox, mailbox } = harness;
  await sandbox.stopSmtp();
  const id = await database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(10)));
  await startWorkers(harness);

  const failing = await waitFor('two failed attempts', async () => {
    const row = await outboxRow(harness, id);
    return row.attempts >= 2 && row;
  });
  t.equal(failing.status, 'queued', 'still queued while retries remain');
  t.match(failing.last_error, /ECONNECTION|ECONNREFUSED/);

  await sandbox.startSmtp();
  const sent = await waitFor('the e-mail to be sent', async () => {
    const row = await outboxRow(harness, id);
    return row.status === 'sent' && row;
  });
  await waitFor('the job to complete', () => allJobsCompleted(harness));
  t.ok(sent.attempts >= 3, `delivered on attempt ${sent.attempts}`);
  t.equal((await mailbox.messages()).length, 1, 'exactly one e-mail');
  t.equal((await harness.sendJobs()).length, 1, 'one job, retried');
});

t.test('a temporary 451 at the end of DATA is retried and the e-mail is delivered once', async (t) => {
  const harness = await startEmailHarness(t, quickRetries);
  const { database, boss, mailbox } = harness;
  await mailbox.rejectNext(2);
  const id = await database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(11)));
  await startWorkers(harness);
  const row = await waitFor('the e-mail to be sent', async () => {
    const current = await outboxRow(harness, id);
    return current.status === 'sent' && current;
  });
  await waitFor('the job to complete', () => allJobsCompleted(harness));
  t.equal(row.attempts, 3, 'two refusals, then delivery');
  t.match(row.last_error, /451/, 'the last refusal is on record');
  t.equal((await mailbox.messages()).length, 1, 'one e-mail');
});

t.test('an e-mail still refused after the last retry is marked failed and its job dead-lettered', async (t) => {
  const harness = await startEmailHarness(t, { ...quickRetries, retryLimit: 1 });
  const { database, boss, mailbox } = harness;
  await mailbox.rejectNext(5);
  const id = await database.db.transaction().execute((trx) => queueEmail(trx, boss, invoiceEmail(12)));
  await startWorkers(harness);
  const row = await waitFor('the row to be failed', async () => {
    const current = await outboxRow(harness, id);
    return current.status === 'failed' && current;
  });
  t.equal(row.attempts, 2, 'the first attempt and one retry');
  t.equal(row.sent_at, null);
  const dead = await waitFor('the dead letter', async () => {
    const jobs = await boss.findJobs<SendEmailJobData>(EMAIL_SEND_DEAD_LETTER_QUEUE);
    return jobs.length > 0 && jobs;
  });
  t.same(dead.map((job) => job.data), [{ emailId: id }]);
  t.equal((await mailbox.messages()).length, 0);
});

t.test('a job for an outbox row that does not exist completes without sending', async (t) => {
  const harness = await startEmailHarness(t);
  const { boss, mailbox } = harness;
  await boss.send(EMAIL_SEND_QUEUE, { emailId: '999999' });
  await startWorkers(harness);
  await waitFor('the job to complete', () => allJobsCompleted(harness));
  t.equal((await mailbox.messages()).length, 0);
});
