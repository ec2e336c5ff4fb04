import { sql } from 'kysely';
import type { JobResult, JobWithMetadata } from 'pg-boss';
import { failureOutput } from '../jobs/work-queue.ts';
import type { Logger } from '../logger.ts';
import type { SendEmailJobData } from './email.queues.ts';
import type { Mailer } from './mailer.ts';
import { prepared, type Db } from '../db/kysely.ts';

export interface SendEmailDependencies {
  db: Db;
  mailer: Mailer;
  log: Logger;
}

/** Outbox errors are for people reading a row, not a stack dump. */
const MAX_ERROR_LENGTH = 2000;

/**
 * The email__send handler (batchSize 1): delivers one outbox row, once.
 *
 * In one transaction it locks the row (`for update`), skips it when it is
 * already sent, sends it with its deterministic Message-ID, marks it sent and
 * commits. A second copy of the job (an expired attempt still running, a job
 * sent twice) waits on the row lock and then finds the row sent, so it sends
 * nothing. A failed send rolls back, is recorded in its own statement (so the
 * record survives the throw), and the throw makes pg-boss retry; the last
 * attempt marks the row failed, and pg-boss moves the job to the dead-letter
 * queue.
 */
export function sendEmailJob({ db, mailer, log }: SendEmailDependencies) {
  /** Each job of the batch settles on its own: one undeliverable message does not hold back the others. */
  return async function sendEmail(jobs: JobWithMetadata<SendEmailJobData>[]): Promise<JobResult[]> {
    const results: JobResult[] = [];
    for (const job of jobs) {
      try {
        await deliver(job);
        results.push({ id: job.id, status: 'completed' });
      } catch (error) {
        results.push({ id: job.id, status: 'failed', output: failureOutput(error) });
      }
    }
    return results;
  };

  async function deliver(job: JobWithMetadata<SendEmailJobData>): Promise<void> {
    const emailId = job.data.emailId;
    let jobLog = log.child({ queue: job.name, jobId: job.id, emailId, attempt: job.retryCount + 1 });
    let sendError: unknown;
    try {
      const outcome = await db.transaction().execute(async (trx) => {
        const email = await trx.selectFrom('email_outbox')
          .select(['id', 'status', 'order_id', 'recipient', 'subject', 'text_body', 'html_body', 'attachments', 'message_id'])
          .where('id', '=', emailId)
          .forUpdate()
          .modifyEnd(prepared)
          .executeTakeFirst();
        if (!email) return 'missing';
        if (email.order_id !== null) jobLog = jobLog.child({ orderId: email.order_id });
        if (email.status === 'sent') return 'already sent';
        try {
          await mailer.send({
            to: email.recipient,
            subject: email.subject,
            text: email.text_body,
            html: email.html_body,
            messageId: email.message_id,
            attachments: email.attachments.map(({ filename, contentType, contentBase64 }) => ({ filename, contentType, content: Buffer.from(contentBase64, 'base64') })),
          });
        } catch (error) {
          sendError = error;
          throw error;
        }
        // The one unavoidable window: the server has accepted the message, and
        // this update or its commit is lost (the process dies, the database
        // connection drops). The row stays queued, the job is retried, and the
        // message goes out once more with the same Message-ID, by which
        // receivers can recognise the duplicate. That is the at-least-once
        // boundary; nothing else sends a message twice.
        await trx.updateTable('email_outbox')
          .set({ status: 'sent', sent_at: sql<Date>`now()`, attempts: sql<number>`attempts + 1` })
          .where('id', '=', emailId)
          .modifyEnd(prepared)
          .execute();
        return 'sent';
      });
      if (outcome === 'missing') jobLog.warn('e-mail job for an outbox row that does not exist: nothing to send');
      else jobLog.info({ outcome }, outcome === 'sent' ? 'e-mail sent' : 'e-mail was already sent: nothing to do');
    } catch (error) {
      if (sendError === undefined) throw error;
      const final = job.retryCount >= job.retryLimit;
      await recordFailure(emailId, sendError, final).catch((recordError: unknown) => jobLog.error({ err: recordError }, 'could not record the failed e-mail attempt'));
      jobLog.warn({ err: sendError, final }, final ? 'e-mail could not be sent: giving up' : 'e-mail could not be sent: will retry');
      throw sendError;
    }
  }

  /** Its own statement, after the rollback: the attempt is on record even though the job throws. */
  async function recordFailure(emailId: string, error: unknown, final: boolean): Promise<void> {
    await db.updateTable('email_outbox')
      .set({
        attempts: sql<number>`attempts + 1`,
        last_error: describe(error).slice(0, MAX_ERROR_LENGTH),
        ...(final ? { status: 'failed' as const } : {}),
      })
      // A concurrent copy may have delivered it meanwhile: a sent row keeps its record clean.
      .where('id', '=', emailId)
      .where('status', '<>', 'sent')
      .execute();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
