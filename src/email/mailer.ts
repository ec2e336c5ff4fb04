import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** With its angle brackets: `<email-42@tanktop.local>`. */
  messageId: string;
  attachments: OutgoingAttachment[];
}

export interface Mailer {
  /** Resolves once the server accepted the message; rejects with the SMTP error otherwise. */
  send(email: OutgoingEmail): Promise<{ response: string }>;
  close(): Promise<void>;
}

/**
 * Every SMTP step gives up after a few seconds, well below the send job's
 * expiry (a job that outlives its expiry may run twice at once). These stay
 * far above what a healthy server needs.
 */
export const SMTP_TIMEOUTS_MS = Object.freeze({ connection: 5_000, greeting: 5_000, socket: 20_000 });

/**
 * A pooled nodemailer transport to `smtp://[user:pass@]host:port` (or smtps://).
 * Pooled connections are reused across messages. The pool never resends on its
 * own (maxRequeues 0): a message whose connection dropped fails its job, and
 * the job's retry, recorded in the outbox, sends it again. One layer retries.
 */
export function createMailer(smtpUrl: string, { from, maxConnections = 4 }: { from: string; maxConnections?: number }): Mailer {
  const transport = nodemailer.createTransport({
    pool: true,
    url: smtpUrl,
    maxConnections,
    maxRequeues: 0,
    connectionTimeout: SMTP_TIMEOUTS_MS.connection,
    greetingTimeout: SMTP_TIMEOUTS_MS.greeting,
    socketTimeout: SMTP_TIMEOUTS_MS.socket,
    // Attachments are bytes from our database: never let a path or URL in a message read files or the network.
    disableFileAccess: true,
    disableUrlAccess: true,
  }, { from });

  return {
    async send(email) {
      // The whole message is built first and handed over as one buffer: streamed part by part, the
      // MIME builder wrote its base64 lines to the socket one small write at a time (a PDF
      // attachment: dozens of writes and TCP segments per message, each a system call).
      const raw = await new MailComposer({
        from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        attachments: email.attachments.map(({ filename, contentType, content }) => ({ filename, contentType, content })),
        disableFileAccess: true,
        disableUrlAccess: true,
      }).compile().build();
      const info = await transport.sendMail({ envelope: { from, to: [email.to] }, raw });
      return { response: String(info.response) };
    },
    async close() {
      transport.close();
    },
  };
}
