import { StripeApiError } from './stripe-error.ts';

export type FailStatus = 500 | 502 | 503;

/**
 * Misbehaviour on demand, for tests and demos (`POST /_sandbox/faults`).
 * Counts are used up one event, payment or API call at a time; the delay
 * stays until reset.
 */
export interface Faults {
  /** The next n payments are declined, even when the customer presses Pay. */
  declineNext: number;
  /** The next n events are delivered twice. */
  duplicateWebhooks: number;
  /** The next n events are held back, then delivered newest first. */
  reorderWebhooks: number;
  /** Every delivery waits this long before its first attempt. */
  delayWebhooksMs: number;
  /** The next n events are never delivered (recorded as dropped). */
  dropWebhooks: number;
  /** The next `count` API calls whose path starts with `path` answer `status`. */
  failApi: { count: number; status: FailStatus; path: string | null } | null;
}

export function noFaults(): Faults {
  return { declineNext: 0, duplicateWebhooks: 0, reorderWebhooks: 0, delayWebhooksMs: 0, dropWebhooks: 0, failApi: null };
}

const COUNTS = ['declineNext', 'duplicateWebhooks', 'reorderWebhooks', 'dropWebhooks'] as const;

/** Adds the requested faults to the current ones; a bad request changes nothing. */
export function addFaults(faults: Faults, request: unknown): void {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw invalid('The body must be a JSON object.');
  const body = request as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (![...COUNTS, 'delayWebhooksMs', 'failApi'].includes(key)) throw invalid(`Unknown fault: ${key}.`);
  }
  const counts = COUNTS.map((key) => [key, body[key] === undefined ? undefined : count(body[key], key)] as const);
  const delay = body.delayWebhooksMs === undefined ? undefined : count(body.delayWebhooksMs, 'delayWebhooksMs');
  const failApi = body.failApi === undefined ? undefined : apiFailure(body.failApi);
  for (const [key, value] of counts) if (value !== undefined) faults[key] += value;
  if (delay !== undefined) faults.delayWebhooksMs = delay;
  if (failApi !== undefined) faults.failApi = failApi;
}

/** Uses up one of a counted fault; true when it applies. */
export function takeFault(faults: Faults, key: (typeof COUNTS)[number]): boolean {
  if (faults[key] <= 0) return false;
  faults[key]--;
  return true;
}

/** The status to answer instead of serving this API call, if a failApi fault matches it. */
export function takeApiFailure(faults: Faults, path: string): FailStatus | undefined {
  const failure = faults.failApi;
  if (!failure || (failure.path !== null && !path.startsWith(failure.path))) return undefined;
  failure.count--;
  if (failure.count <= 0) faults.failApi = null;
  return failure.status;
}

function count(value: unknown, key: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`${key} must be a whole number of 0 or more.`);
  return value as number;
}

function apiFailure(value: unknown): Faults['failApi'] {
  if (typeof value !== 'object' || value === null) throw invalid('failApi must be an object: { count, status, path? }.');
  const { count: n, status, path, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalid(`Unknown failApi field: ${Object.keys(rest).join(', ')}.`);
  const times = count(n, 'failApi.count');
  if (status !== 500 && status !== 502 && status !== 503) throw invalid('failApi.status must be 500, 502 or 503.');
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) throw invalid('failApi.path must be a path prefix such as /v1/refunds.');
  return times === 0 ? null : { count: times, status, path: (path as string | undefined) ?? null };
}

function invalid(message: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, { remembered: false });
}
