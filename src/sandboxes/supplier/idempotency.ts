import { SupplierApiError } from './supplier-error.ts';

export interface RememberedResponse {
  fingerprint: string;
  status: number;
  /** The response's exact bytes: a replay answers them again, however the order has moved on since. */
  body: string;
  orderId: string;
}

/** Keys are kept a day, as Stripe keeps them; the sandbox also bounds how many. */
const TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The `Idempotency-Key` memory of `POST /orders`, per API token: the first
 * request's body (as a fingerprint) and the order it created. Only a created
 * order is remembered; a refused or failed request leaves the key free, so a
 * retry with it is judged afresh.
 */
export function createIdempotencyMemory(maxEntries = 50_000) {
  const entries = new Map<string, RememberedResponse & { at: number }>();

  return {
    /** The response to replay, or undefined for a new key; the key with another body is 422. */
    lookup(token: string, key: string, fingerprint: string): RememberedResponse | undefined {
      const entry = entries.get(`${token}\n${key}`);
      if (!entry || Date.now() - entry.at > TTL_MS) return undefined;
      if (entry.fingerprint !== fingerprint) {
        throw new SupplierApiError(422, 'idempotency_key_reused',
          `The Idempotency-Key ${key} was first used with another request body (it created order ${entry.orderId}); use a new key for a different order.`,
          { order_id: entry.orderId });
      }
      return entry;
    },
    remember(token: string, key: string, response: RememberedResponse): void {
      entries.set(`${token}\n${key}`, { ...response, at: Date.now() });
      // A Map iterates oldest first: a long benchmark keeps memory bounded.
      for (const oldest of entries.keys()) {
        if (entries.size <= maxEntries) break;
        entries.delete(oldest);
      }
    },
  };
}

export type IdempotencyMemory = ReturnType<typeof createIdempotencyMemory>;

/** The body compared regardless of the order of its keys (arrays keep theirs). */
export function fingerprint(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return Object.keys(record).sort().map((key) => [key, canonical(record[key])]);
}
