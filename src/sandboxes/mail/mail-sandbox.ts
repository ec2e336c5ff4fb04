import path from 'node:path';
import view from '@fastify/view';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import Handlebars from 'handlebars';
import { createLogger, type Logger } from '../../logger.ts';
import { mailSandboxRoutes } from './mail-sandbox.routes.ts';
import { createSmtpListener, type SandboxFaults } from './mail-smtp.ts';
import { createMailStore } from './mail-store.ts';

const TEMPLATES_DIR = path.resolve(import.meta.dirname, '../../../templates/sandboxes/mail');

export interface MailSandboxOptions {
  /** Listen address of both servers (default 127.0.0.1). */
  host?: string;
  /** 0 (the default): a free port. */
  smtpPort?: number;
  /** 0 (the default): a free port. */
  httpPort?: number;
  log?: Logger;
}

export interface MailSandbox {
  /** `smtp://127.0.0.1:<port>` */
  smtpUrl: string;
  /** `http://127.0.0.1:<port>` */
  httpUrl: string;
  close(): Promise<void>;
  /** Takes SMTP down (open connections get a 421 and are closed); the mailbox stays up. */
  stopSmtp(): Promise<void>;
  /** Brings SMTP back on the same port. */
  startSmtp(): Promise<void>;
}

/**
 * A stand-in for a mail provider on a developer's machine and in tests: an
 * SMTP server that keeps what it receives in memory, and a mailbox to read it
 * (pages for people, JSON for tests) on an HTTP port of its own.
 */
export async function startMailSandbox(options: MailSandboxOptions = {}): Promise<MailSandbox> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? createLogger('silent', 'mail-sandbox');
  const store = createMailStore();
  const faults: SandboxFaults = { rejectNext: 0 };

  const smtp = createSmtpListener({ host, port: options.smtpPort ?? 0, store, faults, log });
  await smtp.start();

  // Received messages are logged by the SMTP side; a line per page view would
  // drown them, so the HTTP side speaks up from warnings on.
  const httpLog = log.child({ component: 'mailbox' }, { level: log.levelVal >= 40 ? log.level : 'warn' });
  const app = Fastify({ loggerInstance: httpLog as FastifyBaseLogger, bodyLimit: 64 * 1024 });
  await app.register(view, {
    engine: { handlebars: Handlebars.create() },
    root: TEMPLATES_DIR,
    layout: 'layout.hbs',
    viewExt: 'hbs',
    production: true,
  });
  await app.register(mailSandboxRoutes, { store, faults });
  try {
    await app.listen({ host, port: options.httpPort ?? 0 });
  } catch (error) {
    await smtp.stop();
    throw error;
  }
  const address = app.server.address();
  const httpPort = typeof address === 'object' && address ? address.port : options.httpPort;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    smtpUrl: `smtp://${urlHost}:${smtp.port}`,
    httpUrl: `http://${urlHost}:${httpPort}`,
    async close() {
      await smtp.stop();
      await app.close();
    },
    stopSmtp: () => smtp.stop(),
    startSmtp: () => smtp.start(),
  };
}
