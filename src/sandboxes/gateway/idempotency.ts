import type { FormValue } from './form-decoder.ts';
import { StripeApiError } from './stripe-error.ts';

export interface RememberedResponse {
  endpoint: string;
  fingerprint: string;
  status: number;
  body: string;
}

/** Stripe forgets keys after 24 hours; the sandbox also bounds how many it keeps. */
const TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The `Idempotency-Key` memory: per API key and idempotency key, the first
 * request's endpoint, its parameters and the response it got. The same key
 * with the same parameters replays that response; with other parameters or
 * on another endpoint it is Stripe's 400 idempotency_error.
 */
export function createIdempotencyMemory(maxEntries = 50_000) {
  const entries = new Map<string, RememberedResponse & { at: number }>();

  return {
    /** The response to replay, undefined for a new key; throws when the key was used for another request. */
    lookup(apiKey: string, key: string, endpoint: string, fingerprint: string): RememberedResponse | undefined {
      const entry = entries.get(`${apiKey}\n${key}`);
      if (!entry || Date.now() - entry.at > TTL_MS) return undefined;
      if (entry.endpoint !== endpoint) {
        throw new StripeApiError(400, 'idempotency_error',
          `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${entry.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
          { remembered: false });
      }
      if (entry.fingerprint !== fingerprint) {
        throw new StripeApiError(400, 'idempotency_error',
          `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          { remembered: false });
      }
      return entry;
    },
    remember(apiKey: string, key: string, response: RememberedResponse): void {
      const id = `${apiKey}\n${key}`;
      entries.delete(id);
      entries.set(id, { ...response, at: Date.now() });
      // Oldest first in a Map: a long benchmark run keeps memory bounded.
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
  };
}

export type IdempotencyMemory = ReturnType<typeof createIdempotencyMemory>;

/** Parameters compared regardless of their order on the wire. */
export function fingerprint(params: FormValue): string {
  return JSON.stringify(canonical(params));
}

function canonical(value: FormValue): unknown {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(canonical);
  return Object.keys(value).sort().map((key) => [key, canonical(value[key] as FormValue)]);
}
