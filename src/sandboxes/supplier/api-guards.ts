import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { takeFail5xx, takeRateLimit, type FailStatus } from './faults.ts';
import type { Supplier } from './supplier-context.ts';
import { SupplierApiError } from './supplier-error.ts';

const FAILURE_CODES: Readonly<Record<FailStatus, string>> = Object.freeze({
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
});

/**
 * The machinery around the API's endpoints (mounted under /v1): the bearer
 * token first, then injected failures (5xx, 429) once the body is read (so the
 * request log can name the order a failed call was for), the one error shape,
 * the request id, and a record of every call for `GET /_sandbox/requests`.
 */
export function installApiGuards(api: FastifyInstance, supplier: Supplier): void {
  const expected = digest(supplier.apiToken);

  api.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const header = request.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (token === undefined || !timingSafeEqual(digest(token), expected)) {
      void reply.header('www-authenticate', 'Bearer realm="supplier"');
      throw new SupplierApiError(401, 'unauthorized', token === undefined
        ? 'Send your API token as Authorization: Bearer <token>.'
        : 'The API token is not valid.');
    }
  });

  api.addHook('preHandler', async (request, reply) => {
    noteExternalId(supplier, request);
    const failure = takeFail5xx(supplier.faults);
    if (failure !== undefined) {
      supplier.requests.note(request, { fault: 'fail5xx' });
      return reply.code(failure).send({ error: { code: FAILURE_CODES[failure], message: 'Something went wrong on our side; try again later (a failure injected by the supplier sandbox).' } });
    }
    const retryAfter = takeRateLimit(supplier.faults);
    if (retryAfter !== undefined) {
      supplier.requests.note(request, { fault: 'rateLimit' });
      return reply.code(429).header('retry-after', String(retryAfter))
        .send({ error: { code: 'rate_limited', message: `Too many requests: try again in ${retryAfter} seconds.`, retry_after: retryAfter } });
    }
    return undefined;
  });

  api.addHook('onResponse', async (request, reply) => {
    supplier.requests.write(request, { method: request.method, path: pathOf(request), status: reply.statusCode, ...callOf(request) });
    supplier.log.debug({ method: request.method, path: pathOf(request), status: reply.statusCode }, 'supplier api call');
  });

  api.setErrorHandler((error: FastifyError | SupplierApiError, request, reply) => {
    if (error instanceof SupplierApiError) return reply.code(error.status).send(error.body());
    if (error.statusCode && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: 'validation_failed', message: error.message } });
    }
    request.log.error({ err: error }, 'supplier sandbox failed');
    return reply.code(500).send({ error: { code: 'internal_error', message: 'Something went wrong on our side.' } });
  });

  api.setNotFoundHandler((request, reply) => reply.code(404).send({
    error: { code: 'not_found', message: `There is no ${request.method} ${pathOf(request)} in the supplier API.` },
  }));
}

/** The call's identity for the request log, beyond method, path and status. */
export function callOf(request: FastifyRequest): { idempotencyKey: string | null; requestId: string; at: string } {
  return { idempotencyKey: idempotencyKeyOf(request), requestId: request.id, at: new Date().toISOString() };
}

export function idempotencyKeyOf(request: FastifyRequest): string | null {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' && key !== '' ? key : null;
}

export function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}

function noteExternalId(supplier: Supplier, request: FastifyRequest): void {
  const reference = (request.params as { reference?: string } | undefined)?.reference;
  const fromBody = (request.body as { external_id?: unknown } | undefined)?.external_id;
  const externalId = reference?.startsWith('@') ? reference.slice(1) : typeof fromBody === 'string' ? fromBody : undefined;
  if (externalId !== undefined) supplier.requests.note(request, { externalId });
}

/** Equal-length digests, so the comparison takes the same time whatever the token. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
