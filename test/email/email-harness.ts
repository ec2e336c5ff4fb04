import { createHash } from 'node:crypto';
import { PgBoss, type QueueOptions } from 'pg-boss';
import type { Test } from 'tap';
import { EMAIL_SEND_QUEUE, emailQueues } from '../../src/email/email.queues.ts';
import { createMailer, type Mailer } from '../../src/email/mailer.ts';
import type { EmailRequest } from '../../src/email/queue-email.ts';
import { startMailSandbox, type MailSandbox } from '../../src/sandboxes/mail/mail-sandbox.ts';
import { freshDatabase, testLog, type TestDatabase } from '../helpers/database.ts';

export interface EmailHarness {
  database: TestDatabase;
  boss: PgBoss;
  sandbox: MailSandbox;
  mailer: Mailer;
  mailbox: Mailbox;
  /** Jobs of email__send in any state. */
  sendJobs(): Promise<{ id: string; state: string }[]>;
}

/**
 * A test database, pg-boss started on it with the e-mail queues, the mail
 * sandbox, and a mailer pointed at it; all stopped at teardown (pg-boss first,
 * so no worker runs against a database being dropped).
 * `sendQueue` overrides email__send's options (short retry delays).
 */
export async function startEmailHarness(t: Test, sendQueue: Partial<QueueOptions> = {}): Promise<EmailHarness> {
  const database = await freshDatabase(t, { poolSize: 6 });
  const sandbox = await startMailSandbox({ log: testLog });
  t.teardown(() => sandbox.close());
  const mailer = createMailer(sandbox.smtpUrl, { from: 'Tanktop <billing@tanktop.local>', maxConnections: 2 });
  t.teardown(() => mailer.close());

  const boss = new PgBoss({ connectionString: database.url, max: 4, schedule: false });
  boss.on('error', (error) => testLog.error({ err: error }, 'pg-boss error'));
  await boss.start();
  t.teardown(() => boss.stop({ graceful: true, timeout: 10_000 }));
  for (const spec of emailQueues) {
    const options = spec.name === EMAIL_SEND_QUEUE ? { ...spec.options, ...sendQueue } : spec.options;
    // pg-boss refuses a maximum delay without backoff.
    if (options.retryBackoff === false) delete options.retryDelayMax;
    await boss.createQueue(spec.name, options);
  }

  return {
    database,
    boss,
    sandbox,
    mailer,
    mailbox: mailbox(sandbox.httpUrl),
    sendJobs: async () => (await boss.findJobs(EMAIL_SEND_QUEUE)).map(({ id, state }) => ({ id, state })),
  };
}

/** Fast retries for the tests that take SMTP down: one second apart, no backoff. */
export const quickRetries: Partial<QueueOptions> = { retryDelay: 1, retryBackoff: false };

export interface MailboxMessage {
  id: string;
  messageId: string | null;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  attachments: { filename: string; contentType: string; size: number; sha256: string }[];
}

export interface Mailbox {
  messages(): Promise<MailboxMessage[]>;
  attachment(messageId: string, index: number): Promise<Response>;
  rejectNext(n: number): Promise<void>;
}

/** The sandbox's JSON API, over real HTTP. */
export function mailbox(httpUrl: string): Mailbox {
  return {
    async messages() {
      const response = await fetch(`${httpUrl}/api/messages`);
      if (!response.ok) throw new Error(`GET /api/messages: ${response.status}`);
      return (await response.json()) as MailboxMessage[];
    },
    attachment: (messageId, index) => fetch(`${httpUrl}/api/messages/${messageId}/attachments/${index}`),
    async rejectNext(n) {
      const response = await fetch(`${httpUrl}/_sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ rejectNext: n }),
      });
      if (!response.ok) throw new Error(`POST /_sandbox/faults: ${response.status}`);
    },
  };
}

/** Polls until `check` returns a truthy value (which is returned), or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Something that looks like a small PDF, different every call. */
export function fakePdf(): Buffer {
  const body = Buffer.alloc(24 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + Math.floor(Math.random() * 256)) & 0xff;
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), body, Buffer.from('\n%%EOF\n')]);
}

export function invoiceEmail(orderId: number, overrides: Partial<EmailRequest> = {}): EmailRequest {
  return {
    dedupeKey: `invoice:${orderId}`,
    purpose: 'invoice',
    orderId,
    to: 'ann@example.com',
    template: 'invoice',
    data: {
      customerName: 'Ann Example',
      orderNumber: String(1000 + orderId),
      invoiceNumber: `INV-2026-${String(orderId).padStart(6, '0')}`,
      total: '1,234.50',
      currency: 'EUR',
      orderUrl: `https://shop.example.com/orders/${orderId}`,
    },
    ...overrides,
  };
}
