import path from 'node:path';
import view from '@fastify/view';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import Handlebars from 'handlebars';
import { createLogger, type Logger } from '../../logger.ts';
import { alertSandboxRoutes, noAlertFaults } from './alert-sandbox.routes.ts';
import { createAlertStore } from './alert-store.ts';

const TEMPLATES_DIR = path.resolve(import.meta.dirname, '../../../templates/sandboxes/alerts');
/** The webhook's path: any /hooks/<name> is accepted; this is the one handed out. */
const HOOK_PATH = '/hooks/tanktop';

export interface AlertSandboxOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** 0 (the default): a free port. */
  port?: number;
  log?: Logger;
}

export interface AlertSandbox {
  /** The webhook to post to: `http://127.0.0.1:<port>/hooks/tanktop` (ALERT_WEBHOOK_URL). */
  url: string;
  /** The page listing what was posted: `http://127.0.0.1:<port>/`. */
  pageUrl: string;
  close(): Promise<void>;
}

/**
 * A stand-in for the team's chat channel on a developer's machine and in
 * tests: a Slack incoming webhook that keeps what it is sent in memory (the
 * newest 500), a page to read it, JSON at /api/messages, and faults on demand.
 */
export async function startAlertSandbox(options: AlertSandboxOptions = {}): Promise<AlertSandbox> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? createLogger('silent', 'alert-sandbox');
  const store = createAlertStore();
  const faults = noAlertFaults();
  const closing = new AbortController();

  // Received messages are logged by the routes at info; a line per request would drown them.
  const httpLog = log.child({ component: 'alert-sandbox' }, { level: log.levelVal >= 40 ? log.level : 'warn' });
  const app = Fastify({ loggerInstance: httpLog as FastifyBaseLogger, bodyLimit: 1024 * 1024 });
  await app.register(view, {
    engine: { handlebars: Handlebars.create() },
    root: TEMPLATES_DIR,
    layout: 'layout.hbs',
    viewExt: 'hbs',
    production: true,
  });
  await app.register(alertSandboxRoutes, { store, faults, closing: closing.signal, log });
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: `${base}${HOOK_PATH}`,
    pageUrl: `${base}/`,
    async close() {
      closing.abort();
      await app.close();
    },
  };
}
