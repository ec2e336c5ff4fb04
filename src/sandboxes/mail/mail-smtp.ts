import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../../logger.ts';
import type { MailStore } from './mail-store.ts';

/** What the sandbox is told to get wrong, through POST /_sandbox/faults. */
export interface SandboxFaults {
  /** The next n messages are refused with a temporary 451 at the end of DATA. */
  rejectNext: number;
}

export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export interface SmtpListener {
  readonly port: number;
  start(): Promise<void>;
  /** Refuses new connections and drops the open ones (421): the server is down, as far as clients can tell. */
  stop(): Promise<void>;
}

type SmtpError = Error & { responseCode?: number };

function smtpError(responseCode: number, message: string): SmtpError {
  return Object.assign(new Error(message), { responseCode });
}

/**
 * Our SMTP server: plain text (no STARTTLS: there is nothing to protect on a
 * developer's machine), AUTH optional and any credentials accepted, messages
 * parsed and kept in the store. `start()` after `stop()` listens on the same
 * port again: a test can take the server down and bring it back.
 */
export function createSmtpListener(options: { host: string; port: number; store: MailStore; faults: SandboxFaults; log: Logger }): SmtpListener {
  const { host, store, faults, log } = options;
  let port = options.port;
  let server: SMTPServer | undefined;

  function onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      // Past the limit the rest is read and dropped: the client gets its 552 after DATA.
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    stream.on('error', (error: Error) => callback(error));
    stream.on('end', () => {
      if (stream.sizeExceeded) return callback(smtpError(552, `Message exceeds the sandbox's limit of ${MAX_MESSAGE_BYTES} bytes`));
      if (faults.rejectNext > 0) {
        faults.rejectNext -= 1;
        log.info({ remaining: faults.rejectNext }, 'mail sandbox: refusing a message as told (451)');
        return callback(smtpError(451, 'Temporary failure injected by the mail sandbox, try again later'));
      }
      const raw = Buffer.concat(chunks);
      const envelope = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
        rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address),
      };
      // The mailbox shows a message's own text and HTML parts: mailparser's textAsHtml (the text part
      // linkified, a third of its parsing time for our invoice e-mails) is never read.
      simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true }).then(
        (parsed) => {
          const message = store.add(parsed, envelope, raw.length);
          log.info({ id: message.id, subject: message.subject, to: message.to }, 'mail sandbox: message received');
          callback(null, `Message queued as ${message.id}`);
        },
        (error: unknown) => {
          log.warn({ err: error }, 'mail sandbox: a message could not be parsed');
          callback(smtpError(554, 'The mail sandbox could not parse this message'));
        },
      );
    });
  }

  function createServer(): SMTPServer {
    const created = new SMTPServer({
      name: 'mail-sandbox.tanktop.local',
      banner: 'Tanktop mail sandbox',
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      allowInsecureAuth: true,
      size: MAX_MESSAGE_BYTES,
      // Reverse DNS of 127.0.0.1 costs a lookup per connection and tells us nothing.
      disableReverseLookup: true,
      logger: false,
      onAuth(auth, _session, callback) {
        callback(null, { user: auth.username ?? 'anonymous' });
      },
      onData,
    });
    // Connection-level failures (a client that resets) arrive here; without a listener they would crash the process.
    created.on('error', (error) => log.debug({ err: error }, 'mail sandbox: SMTP connection error'));
    return created;
  }

  return {
    get port() {
      return port;
    },
    async start() {
      if (server) return;
      const starting = createServer();
      await new Promise<void>((resolve, reject) => {
        const failed = (error: Error) => reject(error);
        starting.server.once('error', failed);
        starting.listen(port, host, () => {
          starting.server.off('error', failed);
          resolve();
        });
      });
      port = (starting.server.address() as AddressInfo).port;
      server = starting;
    },
    async stop() {
      const stopping = server;
      if (!stopping) return;
      server = undefined;
      const closed = new Promise<void>((resolve) => stopping.close(() => resolve()));
      for (const connection of [...stopping.connections]) {
        connection.send(421, 'Mail sandbox shutting down');
        connection.close();
      }
      await closed;
    },
  };
}
