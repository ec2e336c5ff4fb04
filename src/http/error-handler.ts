import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeDatabaseError } from '../db/database-errors.ts';
import { HttpError } from './http-error.ts';

/** Sentences for errors raised by plugins, whose own messages are for developers. */
const pluginMessages: Record<string, string> = {
  FST_CSRF_INVALID_TOKEN: 'This form has expired or did not come from this site: reload the page and try again.',
  FST_CSRF_MISSING_SECRET: 'This form has expired or did not come from this site: reload the page and try again.',
};

/**
 * The one place errors become responses. Below 500 the client gets the
 * sentence; at 500 it gets a generic one and the log gets the rest.
 * /api/ and /healthz answer JSON; everything else (pages, CSV links) an HTML
 * page, so a person who types a bad date reads a sentence, not a stack.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const explained = describeDatabaseError(error);
    const statusCode = error instanceof HttpError ? error.statusCode
      : explained ? 400
      : (error.statusCode ?? 500);
    const message = statusCode < 500 ? (pluginMessages[error.code] ?? explained ?? error.message) : 'Something went wrong on our side; it has been logged.';
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ statusCode, reason: message }, 'request refused');
    return respond(request, reply, statusCode, error.code ?? 'error', message);
  });

  app.setNotFoundHandler((request, reply) => respond(request, reply, 404, 'not_found', `There is no page at ${request.url}.`));
}

/**
 * JSON for the API and the health check; an HTML page for the pages. A path
 * that matches no route gets HTML when the client asks for it (browsers do),
 * else JSON, as before the pages existed.
 */
function wantsJson(request: FastifyRequest): boolean {
  if (request.url.startsWith('/api/') || request.url === '/api' || request.url.startsWith('/healthz')) return true;
  if (request.routeOptions.url) return false;
  return !(request.headers.accept ?? '').includes('text/html');
}

async function respond(request: FastifyRequest, reply: FastifyReply, statusCode: number, code: string, message: string): Promise<FastifyReply> {
  // A 304/ETag prepared before the failure must not label the error page.
  reply.removeHeader('etag');
  void reply.header('cache-control', 'no-store');
  if (wantsJson(request) || !reply.viewAsync) {
    return reply.status(statusCode).send({ statusCode, error: code, message });
  }
  try {
    const html = await reply.viewAsync('errors/error', {
      title: statusCode === 404 ? 'Not found' : statusCode < 500 ? 'That did not work' : 'Something went wrong',
      statusCode, message, user: request.user ?? null, nav: [],
      back: request.headers.referer?.startsWith('/') ? request.headers.referer : undefined,
    });
    return reply.status(statusCode).type('text/html; charset=utf-8').send(html);
  } catch (renderError) {
    request.log.error({ err: renderError }, 'the error page could not be rendered');
    return reply.status(statusCode).type('text/plain; charset=utf-8').send(`${statusCode}: ${message}\n`);
  }
}
