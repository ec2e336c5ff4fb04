import { SupplierApiError } from './supplier-error.ts';

export const FAIL_STATUSES = [500, 502, 503, 504] as const;
export type FailStatus = (typeof FAIL_STATUSES)[number];
export const REJECT_CODES = ['invalid_address', 'unknown_sku', 'out_of_stock'] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/**
 * Misbehaviour on demand (`POST /_sandbox/faults`). Counted faults are used
 * up one API call, order or event at a time; a fail5xx rate and the webhook
 * delay stay until `DELETE /_sandbox/faults`.
 */
export interface Faults {
  /** API calls answer `status` instead: the next `count` calls, or each call with probability `rate`. */
  fail5xx: { count: number | null; rate: number | null; status: FailStatus } | null;
  /** The next `count` API calls answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit: { count: number; retryAfterSeconds: number } | null;
  /** The next `count` orders that would be created are refused with `code` (422). */
  reject: { count: number; code: RejectCode } | null;
  /** The next `count` orders are created, but their response is held `delayMs`, then the connection is dropped. */
  acceptThenTimeout: { count: number; delayMs: number } | null;
  /** Every webhook waits this long before its first attempt. */
  delayWebhooksMs: number;
  /** The next n events are delivered twice. */
  duplicateWebhooks: number;
  /** The next n events are held back, then delivered newest first. */
  reorderWebhooks: number;
  /** The next n events are never delivered (recorded as dropped; resend them through the control API). */
  dropWebhooks: number;
  /** The next n orders go on_hold instead of into production. */
  holdNext: number;
  /** The next n orders go failed instead of into production. */
  failAfterAcceptance: number;
  /** The next n orders are cancelled by the supplier instead of going into production. */
  cancelAfterAcceptance: number;
}

export type CountedFault = 'duplicateWebhooks' | 'reorderWebhooks' | 'dropWebhooks' | 'holdNext' | 'failAfterAcceptance' | 'cancelAfterAcceptance';
const COUNTED: readonly CountedFault[] = ['duplicateWebhooks', 'reorderWebhooks', 'dropWebhooks', 'holdNext', 'failAfterAcceptance', 'cancelAfterAcceptance'];
const OBJECTS = ['fail5xx', 'rateLimit', 'reject', 'acceptThenTimeout', 'delayWebhooksMs'] as const;

export function noFaults(): Faults {
  return {
    fail5xx: null, rateLimit: null, reject: null, acceptThenTimeout: null, delayWebhooksMs: 0,
    duplicateWebhooks: 0, reorderWebhooks: 0, dropWebhooks: 0, holdNext: 0, failAfterAcceptance: 0, cancelAfterAcceptance: 0,
  };
}

/**
 * Adds the requested faults: counts add to those pending, the others replace
 * theirs (a count of 0 clears one). A bad request changes nothing.
 */
export function addFaults(faults: Faults, request: unknown): void {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw invalid('The body must be a JSON object of faults.');
  const body = request as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!(COUNTED as readonly string[]).includes(key) && !(OBJECTS as readonly string[]).includes(key)) throw invalid(`Unknown fault: ${key}.`);
  }
  const next: Partial<Faults> = {};
  if (body.fail5xx !== undefined) next.fail5xx = fail5xx(body.fail5xx);
  if (body.rateLimit !== undefined) next.rateLimit = rateLimit(body.rateLimit);
  if (body.reject !== undefined) next.reject = reject(body.reject);
  if (body.acceptThenTimeout !== undefined) next.acceptThenTimeout = acceptThenTimeout(body.acceptThenTimeout);
  if (body.delayWebhooksMs !== undefined) next.delayWebhooksMs = whole(body.delayWebhooksMs, 'delayWebhooksMs', 600_000);
  const counts = COUNTED.filter((key) => body[key] !== undefined).map((key) => [key, whole(body[key], key)] as const);
  Object.assign(faults, next);
  for (const [key, value] of counts) faults[key] += value;
}

/** Uses up one of a counted fault; true when it applies. */
export function takeFault(faults: Faults, key: CountedFault): boolean {
  if (faults[key] <= 0) return false;
  faults[key]--;
  return true;
}

/** The status an API call answers instead of being served, if a fail5xx fault says so. */
export function takeFail5xx(faults: Faults, random: () => number = Math.random): FailStatus | undefined {
  const fault = faults.fail5xx;
  if (!fault) return undefined;
  if (fault.rate !== null) return random() < fault.rate ? fault.status : undefined;
  if (fault.count !== null && --fault.count <= 0) faults.fail5xx = null;
  return fault.status;
}

/** Retry-After seconds for a call the rateLimit fault refuses. */
export function takeRateLimit(faults: Faults): number | undefined {
  const fault = faults.rateLimit;
  if (!fault) return undefined;
  if (--fault.count <= 0) faults.rateLimit = null;
  return fault.retryAfterSeconds;
}

export function takeReject(faults: Faults): RejectCode | undefined {
  const fault = faults.reject;
  if (!fault) return undefined;
  if (--fault.count <= 0) faults.reject = null;
  return fault.code;
}

/** How long to hold a created order's response before dropping the connection. */
export function takeAcceptThenTimeout(faults: Faults): number | undefined {
  const fault = faults.acceptThenTimeout;
  if (!fault) return undefined;
  if (--fault.count <= 0) faults.acceptThenTimeout = null;
  return fault.delayMs;
}

function fail5xx(value: unknown): Faults['fail5xx'] {
  const { count, rate, status } = fields(value, 'fail5xx', ['count', 'rate', 'status'], '{ count | rate, status? }');
  if ((count === undefined) === (rate === undefined)) throw invalid('fail5xx needs exactly one of count (the next n calls) or rate (0 to 1, every call).');
  if (status !== undefined && !(FAIL_STATUSES as readonly unknown[]).includes(status)) throw invalid(`fail5xx.status must be one of ${FAIL_STATUSES.join(', ')}.`);
  const failStatus = (status ?? 500) as FailStatus;
  if (rate !== undefined) {
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw invalid('fail5xx.rate must be a number from 0 to 1.');
    return rate === 0 ? null : { count: null, rate, status: failStatus };
  }
  const n = whole(count, 'fail5xx.count');
  return n === 0 ? null : { count: n, rate: null, status: failStatus };
}

function rateLimit(value: unknown): Faults['rateLimit'] {
  const { count, retryAfterSeconds } = fields(value, 'rateLimit', ['count', 'retryAfterSeconds'], '{ count, retryAfterSeconds? }');
  const n = whole(count, 'rateLimit.count');
  const seconds = retryAfterSeconds === undefined ? 1 : whole(retryAfterSeconds, 'rateLimit.retryAfterSeconds', 3600);
  return n === 0 ? null : { count: n, retryAfterSeconds: seconds };
}

function reject(value: unknown): Faults['reject'] {
  const { count, code } = fields(value, 'reject', ['count', 'code'], '{ count, code }');
  const n = whole(count, 'reject.count');
  if (!(REJECT_CODES as readonly unknown[]).includes(code)) throw invalid(`reject.code must be one of ${REJECT_CODES.join(', ')}.`);
  return n === 0 ? null : { count: n, code: code as RejectCode };
}

function acceptThenTimeout(value: unknown): Faults['acceptThenTimeout'] {
  const { count, delayMs } = fields(value, 'acceptThenTimeout', ['count', 'delayMs'], '{ count, delayMs? }');
  const n = whole(count, 'acceptThenTimeout.count');
  const delay = delayMs === undefined ? 30_000 : whole(delayMs, 'acceptThenTimeout.delayMs', 600_000);
  return n === 0 ? null : { count: n, delayMs: delay };
}

function fields(value: unknown, name: string, allowed: string[], shape: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${name} must be an object: ${shape}.`);
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw invalid(`Unknown ${name} field: ${unknown.join(', ')}.`);
  return value as Record<string, unknown>;
}

function whole(value: unknown, name: string, max = 1_000_000): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) throw invalid(`${name} must be a whole number from 0 to ${max}.`);
  return value as number;
}

function invalid(message: string): SupplierApiError {
  return new SupplierApiError(400, 'validation_failed', message);
}
