import type { FastifyError, FastifyInstance } from 'fastify';
import { describeDatabaseError } from '../db/database-errors.ts';
import { HttpError } from './http-error.ts';

/**
 * The one place errors become responses. Below 500 the client gets the
 * sentence; at 500 it gets a generic one and the log gets the rest.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const explained = describeDatabaseError(error);
    const statusCode = error instanceof HttpError ? error.statusCode
      : explained ? 400
      : (error.statusCode ?? 500);
    const message = statusCode < 500 ? (explained ?? error.message) : 'Something went wrong on our side; it has been logged.';
    if (statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ statusCode, reason: message }, 'request refused');
    void reply.status(statusCode).send({ statusCode, error: error.code ?? 'error', message });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'not_found', message: `There is no page at ${request.url}.` });
  });
}
