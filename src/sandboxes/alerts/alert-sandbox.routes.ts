import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Logger } from '../../logger.ts';
import type { AlertStore } from './alert-store.ts';
import { messageJson, messageRow } from './alert-views.ts';

/** What the sandbox is told to get wrong, through POST /_sandbox/faults. */
export interface AlertSandboxFaults {
  /** Every webhook POST is answered 503, until set back to false. */
  down: boolean;
  /** The next n webhook POSTs are answered 500. */
  failNext: number;
  /** Every webhook POST is answered this much later (a slow or hanging chat service). */
  slowMs: number;
}

export function noAlertFaults(): AlertSandboxFaults {
  return { down: false, failNext: 0, slowMs: 0 };
}

/** The page is our escaped output only: no scripts, nothing loaded from elsewhere. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const MAX_SLOW_MS = 120_000;

interface HookParams {
  hook: string;
}

/**
 * The webhook (Slack's incoming-webhook contract: a JSON body with `text`
 * and/or `blocks`, answered `ok` as text/plain), a page for people, JSON for
 * tests, and the fault switch. `closing` aborts the slow answers still waiting
 * when the sandbox stops; `log` tells of each message received (the request
 * log speaks from warnings on).
 */
export const alertSandboxRoutes: FastifyPluginAsync<{ store: AlertStore; faults: AlertSandboxFaults; closing: AbortSignal; log: Logger }> = async (app, { store, faults, closing, log }) => {
  function text(reply: FastifyReply, status: number, body: string): FastifyReply {
    return reply.code(status).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(body);
  }

  // Slack answers a body it cannot read with a word, not JSON.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'alert sandbox: request failed');
    if (request.url.startsWith('/hooks/')) return text(reply, status, status === 413 ? 'request_too_large' : status < 500 ? 'invalid_payload' : 'internal_error');
    return reply.code(status).send({ message: status < 500 ? error.message : 'internal error' });
  });

  app.post<{ Params: HookParams }>('/hooks/:hook', async (request, reply) => {
    if (faults.slowMs > 0) {
      try {
        await sleep(faults.slowMs, undefined, { signal: closing });
      } catch {
        return text(reply, 503, 'shutting_down');
      }
      // A sender that stopped waiting never learns the answer: the message does not count
      // (the answer goes nowhere; it is sent only to close the request).
      if (request.socket.destroyed) return text(reply, 503, 'sender_gone');
    }
    if (faults.down) return text(reply, 503, 'service_unavailable');
    if (faults.failNext > 0) {
      faults.failNext -= 1;
      return text(reply, 500, 'internal_error');
    }
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return text(reply, 400, 'invalid_payload');
    const payload = body as Record<string, unknown>;
    const hasText = typeof payload.text === 'string' && payload.text.trim() !== '';
    const hasBlocks = Array.isArray(payload.blocks) && payload.blocks.length > 0;
    if (!hasText && !hasBlocks) return text(reply, 400, 'no_text');
    const message = store.add(request.params.hook, payload);
    log.info({ id: message.id, hook: message.hook, text: message.payload.text }, 'alert sandbox: message received');
    return text(reply, 200, 'ok');
  });

  app.get('/', async (_request, reply) => {
    const messages = store.list();
    const html = await reply.viewAsync('messages', { title: 'Alerts', count: messages.length, messages: messages.map(messageRow), faults });
    return reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_POLICY).header('cache-control', 'no-store').send(html);
  });

  app.get('/api/messages', async () => store.list().map(messageJson));

  app.delete('/api/messages', async (_request, reply) => {
    store.clear();
    return reply.code(204).send();
  });

  app.get('/_sandbox/faults', async () => ({ ...faults }));

  app.post<{ Body: Partial<AlertSandboxFaults> }>('/_sandbox/faults', {
    schema: {
      body: {
        // No additionalProperties: false: Fastify would drop an unknown key silently; the handler names it.
        type: 'object',
        minProperties: 1,
        properties: {
          down: { type: 'boolean' },
          failNext: { type: 'integer', minimum: 0, maximum: 10_000 },
          slowMs: { type: 'integer', minimum: 0, maximum: MAX_SLOW_MS },
        },
      },
    },
  }, async (request, reply) => {
    const unknown = Object.keys(request.body).find((key) => !Object.hasOwn(faults, key));
    if (unknown) return reply.code(400).send({ message: `Unknown fault: ${unknown} (down, failNext, slowMs).` });
    Object.assign(faults, request.body);
    return { ...faults };
  });

  app.delete('/_sandbox/faults', async () => Object.assign(faults, noAlertFaults()));
};
