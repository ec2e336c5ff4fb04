import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { describeDatabaseErrorForClient } from '../db/database-errors.ts';
import { HttpError } from './http-error.ts';

/** Sentences for errors raised by plugins, whose own messages are for developers. */
const pluginMessages: Record<string, string> = {
  FST_CSRF_INVALID_TOKEN: 'This form has expired or did not come from this site: reload the page and try again.',
  FST_CSRF_MISSING_SECRET: 'This form has expired or did not come from this site: reload the page and try again.',
  FST_ERR_BAD_URL: 'This address is not valid: it has a broken %-escape.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'This request sends its body in a form this site does not read.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'This request says it sends JSON, but its body is empty.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'This request says it sends JSON, but its body is not valid JSON.',
  FST_ERR_CTP_BODY_TOO_LARGE: 'This request is larger than this site accepts.',
};

/**
 * Sentences for a plugin error whose message is only its status's name
 * (@fastify/static answers "Forbidden" for `/static/.`): a reason phrase is
 * not a sentence that says what happened or what to do.
 */
const statusSentences: Record<number, string> = {
  400: 'This request is not one this site can read.',
  403: 'This address may not be opened: check the link.',
  404: 'There is nothing at this address: check the link.',
  405: 'This address does not take that kind of request.',
  406: 'This address cannot answer in a form your client accepts.',
  413: 'This request is larger than this site accepts.',
  415: 'This request sends its body in a form this site does not read.',
  416: 'This file does not have the part asked for.',
};

function sentenceFor(statusCode: number, message: string | undefined): string {
  if (message && message !== STATUS_CODES[statusCode]) return message;
  return statusSentences[statusCode] ?? 'This request was refused: check the address and what it sends.';
}

/**
 * The one place errors become responses. Below 500 the client gets the
 * sentence; at 500 it gets a generic one and the log gets the rest. A
 * database error the request caused (a data exception, a constraint) is a
 * 400 with our sentence for it, never the database's text; it is logged as a
 * warning, since validation (input.ts) should have refused the value first.
 * /api/ and /healthz answer JSON; everything else (pages, CSV links) an HTML
 * page, so a person who types a bad date reads a sentence, not a stack.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const explained = error instanceof HttpError ? undefined : describeDatabaseErrorForClient(error);
    const statusCode = error instanceof HttpError ? error.statusCode
      : explained ? 400
      : (error.statusCode ?? 500);
    const message = statusCode < 500 ? (pluginMessages[error.code] ?? explained ?? sentenceFor(statusCode, error.message)) : 'Something went wrong on our side; it has been logged.';
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else if (explained) request.log.warn({ err: error, statusCode, reason: message }, 'request refused by the database: validation let it through');
    else request.log.info({ statusCode, reason: message }, 'request refused');
    return respond(request, reply, statusCode, explained ? 'bad_request' : (error.code ?? 'error'), message);
  });

  app.setNotFoundHandler((request, reply) => respond(request, reply, 404, 'not_found', `There is no page at ${request.url}.`));
}

/**
 * Errors Fastify raises before routing (a broken %-escape in the path, a bad
 * Content-Type): the same sentence and page as any other 400. Passed to
 * Fastify's `frameworkErrors` option, since the error handler never sees them.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const statusCode = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
  const message = pluginMessages[error.code] ?? 'This request is not one this site can read.';
  request.log.info({ statusCode, reason: message, code: error.code }, 'request refused');
  void respond(request, reply, statusCode, 'bad_request', message);
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
