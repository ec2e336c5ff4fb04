import type { Transaction } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Database } from '../db/schema.ts';
import { EMAIL_SEND_QUEUE, type SendEmailJobData } from './email.queues.ts';
import type { StoredAttachment } from './email.schema.ts';
import { renderEmail } from './render-email.ts';
import { prepared } from '../db/kysely.ts';

export interface EmailAttachment {
  filename: string;
  contentType: string;
  content: Buffer | Uint8Array;
}

export interface EmailRequest {
  /** What the message is about, e.g. `invoice:<order id>`: queued once, however often this is called. */
  dedupeKey: string;
  purpose: string;
  orderId?: string | number | null;
  /** One address. */
  to: string;
  /** A template in templates/email/ (`invoice`, `credit-note`, `payment-failed`). */
  template: string;
  data: Record<string, unknown>;
  attachments?: EmailAttachment[];
}

/**
 * Queues an e-mail inside the caller's transaction: the outbox row and its
 * email__send job commit or roll back with the caller's own writes. A second
 * call with the same dedupe key (a retried handler, a double click) is a
 * no-op that enqueues nothing and returns the first message's id.
 *
 * The message is rendered now, so what is sent is what was queued.
 */
export async function queueEmail(trx: Transaction<Database>, boss: Pick<PgBoss, 'send'>, email: EmailRequest): Promise<string> {
  const rendered = await renderEmail(email.template, email.data);
  const attachments: StoredAttachment[] = (email.attachments ?? []).map(({ filename, contentType, content }) => ({
    filename,
    contentType,
    contentBase64: Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('base64'),
  }));
  const inserted = await trx.insertInto('email_outbox')
    .values({
      dedupe_key: email.dedupeKey,
      purpose: email.purpose,
      order_id: email.orderId ?? null,
      recipient: email.to,
      subject: rendered.subject,
      text_body: rendered.text,
      html_body: rendered.html,
      attachments: JSON.stringify(attachments),
    })
    .onConflict((conflict) => conflict.column('dedupe_key').doNothing())
    .returning('id')
    .modifyEnd(prepared)
    .executeTakeFirst();

  if (!inserted) {
    // Already queued: by an earlier call, or by a concurrent transaction that
    // committed while this insert waited on the key (read committed sees it now).
    const existing = await trx.selectFrom('email_outbox').select('id').where('dedupe_key', '=', email.dedupeKey).executeTakeFirstOrThrow();
    return existing.id;
  }
  const job: SendEmailJobData = { emailId: inserted.id };
  await boss.send(EMAIL_SEND_QUEUE, job, { db: jobsIn(trx) });
  return inserted.id;
}
