import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiKeyOf } from './api-key.ts';
import type { Origin } from './events.ts';
import { takeApiFailure } from './faults.ts';
import { decodeForm, FormDecodeError, type FormObject } from './form-decoder.ts';
import { recordRequest, type Gateway } from './gateway-context.ts';
import { fingerprint } from './idempotency.ts';
import { StripeApiError, unrecognizedUrl } from './stripe-error.ts';

/** What a Stripe endpoint's handler gets: the decoded parameters, the path's id, and who asked. */
export interface ApiCall {
  params: FormObject;
  id: string;
  origin: Origin;
}

export type ApiHandler = (call: ApiCall) => unknown;

/**
 * The machinery around Stripe's endpoints (mounted under /v1): injected
 * failures first (an outage answers before anything else), then the API key,
 * the form body, `Idempotency-Key` replay, Stripe's error shape, the
 * `Request-Id` header, and a record of every call for `GET /_sandbox/requests`.
 */
export function installStripeApi(api: FastifyInstance, gateway: Gateway): { route: (method: 'GET' | 'POST', url: string, handler: ApiHandler) => void } {
  api.addHook('onRequest', async (request, reply) => {
    void reply.header('request-id', request.id);
    const version = request.headers['stripe-version'];
    if (typeof version === 'string' && version !== '') {
      // Stripe pins an account to the version of its first request; events carry it.
      gateway.store.apiVersion ??= version;
      void reply.header('stripe-version', version);
    }
    const failure = takeApiFailure(gateway.faults, pathOf(request));
    if (failure !== undefined) {
      return reply.code(failure).send({ error: { type: 'api_error', message: 'An unknown error occurred (a failure injected by the payment sandbox).' } });
    }
    apiKeyOf(request.headers.authorization);
    return undefined;
  });

  api.addHook('onResponse', async (request, reply) => {
    const key = idempotencyKeyOf(request);
    recordRequest(gateway, {
      method: request.method, path: pathOf(request), idempotencyKey: key, status: reply.statusCode,
      replayed: reply.getHeader('idempotent-replayed') === 'true', requestId: request.id, at: new Date().toISOString(),
    });
    gateway.log.debug({ method: request.method, path: pathOf(request), status: reply.statusCode }, 'stripe api call');
  });

  api.setErrorHandler((error: FastifyError | StripeApiError, request, reply) => {
    if (error instanceof StripeApiError) return reply.code(error.status).send(error.body());
    if (error instanceof FormDecodeError) return reply.code(400).send(new StripeApiError(400, 'invalid_request_error', error.message, { param: error.param }).body());
    if (error.statusCode && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { type: 'invalid_request_error', message: error.message } });
    }
    request.log.error({ err: error }, 'payment sandbox failed');
    return reply.code(500).send({ error: { type: 'api_error', message: 'An unknown error occurred.' } });
  });

  api.setNotFoundHandler((request, reply) => {
    const error = unrecognizedUrl(request.method, pathOf(request));
    return reply.code(error.status).send(error.body());
  });

  function route(method: 'GET' | 'POST', url: string, handler: ApiHandler): void {
    api.route({ method, url, handler: (request, reply) => serve(gateway, request, reply, handler) });
  }
  return { route };
}

async function serve(gateway: Gateway, request: FastifyRequest, reply: FastifyReply, handler: ApiHandler): Promise<FastifyReply> {
  const params = request.method === 'POST' ? bodyParams(request) : decodeForm(queryOf(request));
  const key = idempotencyKeyOf(request);
  const call: ApiCall = { params, id: (request.params as { id?: string }).id ?? '', origin: { requestId: request.id, idempotencyKey: key } };
  if (request.method !== 'POST' || key === null) return reply.send(handler(call));

  if (key.length > 255) {
    throw new StripeApiError(400, 'invalid_request_error', 'Idempotency-Key must be at most 255 characters long.', { param: 'Idempotency-Key', remembered: false });
  }
  void reply.header('idempotency-key', key);
  const apiKey = apiKeyOf(request.headers.authorization);
  const endpoint = `${request.method} ${pathOf(request)}`;
  const print = fingerprint(params);
  const remembered = gateway.idempotency.lookup(apiKey, key, endpoint, print);
  if (remembered) {
    return reply.code(remembered.status).header('idempotent-replayed', 'true').type('application/json').send(remembered.body);
  }
  let status = 200;
  let body: unknown;
  try {
    body = handler(call);
  } catch (error) {
    if (!(error instanceof StripeApiError) || !error.remembered) throw error;
    status = error.status;
    body = error.body();
  }
  const text = JSON.stringify(body);
  gateway.idempotency.remember(apiKey, key, { endpoint, fingerprint: print, status, body: text });
  return reply.code(status).type('application/json').send(text);
}

function bodyParams(request: FastifyRequest): FormObject {
  if (request.body === undefined || request.body === null) return decodeForm('');
  if (typeof request.body !== 'string') {
    throw new StripeApiError(400, 'invalid_request_error', 'The payment sandbox, like Stripe, takes application/x-www-form-urlencoded request bodies.', { remembered: false });
  }
  return decodeForm(request.body);
}

function idempotencyKeyOf(request: FastifyRequest): string | null {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' && key !== '' ? key : null;
}

function pathOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
}

function queryOf(request: FastifyRequest): string {
  const query = request.url.indexOf('?');
  return query === -1 ? '' : request.url.slice(query + 1);
}
