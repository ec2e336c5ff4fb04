import type { Logger } from 'pino';
import type { Db } from '../db/kysely.ts';
import { isSupplierOrder, type SupplierOrder, type SupplierOrderRequest } from './supplier-api.types.ts';
import { recordCallEnd, recordCallStart } from './supplier-calls.repository.ts';
import { SupplierDuplicateError, SupplierRejectedError, SupplierRequestError, SupplierRetryableError } from './supplier-errors.ts';

/** Who makes a call and about which order: written to supplier_calls with it. */
export interface CallContext {
  orderId: string | null;
  /** `job:<id>`, `poll:<id>`, `operator:<name>`. */
  source: string | null;
}

export type CreateOutcome = 'created' | 'replayed' | 'existing';

export interface SupplierClient {
  /**
   * POST /orders with the order's Idempotency-Key. `replayed`: the supplier
   * answered a repeat of the key with the order it created the first time;
   * `existing`: it refused the external_id as a duplicate, and this is the
   * order that has it (read with a GET).
   */
  createOrder(request: SupplierOrderRequest, idempotencyKey: string, call: CallContext): Promise<{ order: SupplierOrder; outcome: CreateOutcome }>;
  /** GET /orders/@<external_id>; null when the supplier has no such order. */
  findOrder(externalId: string, call: CallContext): Promise<SupplierOrder | null>;
  /** POST /orders/@<external_id>/cancel; null when the supplier has no such order; not_cancellable is a SupplierRejectedError. */
  cancelOrder(externalId: string, call: CallContext): Promise<SupplierOrder | null>;
}

export interface SupplierClientOptions {
  /** The API's base, with its version: `https://api.supplier.example/v1`. */
  apiUrl: string;
  apiToken: string;
  /** Per call, answer body included (AbortSignal.timeout). */
  timeoutMs: number;
  /** Where calls are recorded (supplier_calls). */
  db: Db;
  log: Logger;
}

interface Answer {
  status: number;
  body: unknown;
  retryAfterSeconds: number | null;
}

/** The supplier's error shape: `{ error: { code, message, ...details } }`. */
interface ErrorBody {
  error?: { code?: unknown; message?: unknown } & Record<string, unknown>;
}

/**
 * The supplier API over fetch. Every call is recorded in supplier_calls
 * (before it leaves, then with its outcome), gives up after timeoutMs, and
 * fails with a typed error (supplier-errors.ts) the jobs branch on. No retries
 * here: the jobs retry, with backoff, and look the order up before sending it
 * again.
 */
export function createSupplierClient(options: SupplierClientOptions): SupplierClient {
  const base = options.apiUrl.replace(/\/+$/, '');

  async function call(method: 'GET' | 'POST', path: string, context: CallContext, body?: unknown, idempotencyKey?: string): Promise<Answer> {
    const callId = await recordCallStart(options.db, { orderId: context.orderId, method, path, idempotencyKey: idempotencyKey ?? null, source: context.source });
    const started = performance.now();
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiToken}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    let answer: Answer;
    try {
      const response = await fetch(`${base}${path}`, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(options.timeoutMs),
      });
      const text = await response.text();
      answer = { status: response.status, body: parseJson(text), retryAfterSeconds: retryAfter(response.headers.get('retry-after')) };
    } catch (failure) {
      const timedOut = (failure as Error).name === 'TimeoutError' || (failure as Error).name === 'AbortError';
      const reason = timedOut ? `no answer within ${options.timeoutMs} ms` : networkReason(failure);
      await recordCallEnd(options.db, callId, { status: null, error: reason, durationMs: performance.now() - started });
      options.log.warn({ method, path, reason }, 'supplier call failed');
      throw new SupplierRetryableError(`${method} ${path}: ${reason}`, { status: null, code: timedOut ? 'timeout' : 'network', cause: failure });
    }
    const problem = answer.status >= 400 ? errorOf(answer.body) : null;
    await recordCallEnd(options.db, callId, {
      status: answer.status, error: problem ? `${problem.code}: ${problem.message}` : null, durationMs: performance.now() - started,
    });
    options.log.debug({ method, path, status: answer.status }, 'supplier call');
    return answer;
  }

  /** The order in a 2xx answer, or the typed error of any other answer. */
  function orderOf(method: string, path: string, answer: Answer, duplicateIsError = false): SupplierOrder {
    if (answer.status >= 200 && answer.status < 300) {
      if (isSupplierOrder(answer.body)) return answer.body;
      throw new SupplierRetryableError(`${method} ${path}: ${answer.status} without an order in the body`, { status: answer.status, code: 'bad_response' });
    }
    throw failureOf(method, path, answer, duplicateIsError);
  }

  const client: SupplierClient = {
    async createOrder(request, idempotencyKey, context) {
      const answer = await call('POST', '/orders', context, request, idempotencyKey);
      try {
        const order = orderOf('POST', '/orders', answer, true);
        return { order, outcome: answer.status === 201 ? 'created' : 'replayed' };
      } catch (error) {
        if (!(error instanceof SupplierDuplicateError)) throw error;
        const existing = await client.findOrder(request.external_id, context);
        if (!existing) throw new SupplierRetryableError(`the supplier called ${request.external_id} a duplicate but cannot find it`, { status: 409, code: 'duplicate_not_found' });
        return { order: existing, outcome: 'existing' };
      }
    },
    async findOrder(externalId, context) {
      const path = `/orders/@${encodeURIComponent(externalId)}`;
      const answer = await call('GET', path, context);
      if (answer.status === 404) return null;
      return orderOf('GET', path, answer);
    },
    async cancelOrder(externalId, context) {
      const path = `/orders/@${encodeURIComponent(externalId)}/cancel`;
      const answer = await call('POST', path, context, {});
      if (answer.status === 404) return null;
      return orderOf('POST', path, answer);
    },
  };
  return client;
}

/** Refusals of an order (or of a cancellation) that a person must resolve; every other 4xx is our request's fault. */
const REJECTIONS = new Set(['invalid_address', 'unknown_sku', 'out_of_stock', 'not_cancellable']);

function failureOf(method: string, path: string, answer: Answer, duplicateIsError: boolean): Error {
  const { status } = answer;
  const { code, message, details } = errorOf(answer.body);
  const what = `${method} ${path}: ${status} ${code}: ${message}`;
  if (status === 429) return new SupplierRetryableError(what, { status, code, retryAfterSeconds: answer.retryAfterSeconds ?? 1 });
  if (status >= 500 || status === 408 || code === 'idempotency_key_in_use') return new SupplierRetryableError(what, { status, code });
  if (status === 409 && code === 'duplicate_external_id' && duplicateIsError) return new SupplierDuplicateError(status, code, message, details);
  if ((status === 409 || status === 422) && REJECTIONS.has(code)) return new SupplierRejectedError(status, code, message, details);
  // Unknown 422 codes are the supplier refusing the order too (new reasons get added); the rest is ours to fix.
  if (status === 422 && code !== 'idempotency_key_reused') return new SupplierRejectedError(status, code, message, details);
  if (status >= 400) return new SupplierRequestError(status, code, what);
  return new SupplierRetryableError(what, { status, code: 'unexpected_status' });
}

function errorOf(body: unknown): { code: string; message: string; details: Record<string, unknown> } {
  const error = (body as ErrorBody | null)?.error;
  const { code, message, ...details } = error ?? {};
  return {
    code: typeof code === 'string' && code ? code : 'unknown_error',
    message: typeof message === 'string' && message ? message : 'the supplier gave no reason',
    details,
  };
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Retry-After as seconds, or as an HTTP date (RFC 9110); null when absent or unreadable. */
export function retryAfter(header: string | null): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function networkReason(failure: unknown): string {
  const cause = (failure as Error).cause;
  return cause instanceof Error ? cause.message : (failure as Error).message;
}
