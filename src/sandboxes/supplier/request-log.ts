/** One API call as `GET /_sandbox/requests` shows it: tests count calls and orders with these. */
export interface ApiRequestRecord {
  method: string;
  path: string;
  /** The status answered; null when no answer was sent (acceptThenTimeout dropped the connection). */
  status: number | null;
  idempotencyKey: string | null;
  /** From the body of POST /orders, or the path's @external_id. */
  externalId: string | null;
  /** The order the call created, replayed, read or cancelled. */
  orderId: string | null;
  /** The answer replayed the first response to this Idempotency-Key. */
  replayed: boolean;
  /** The fault that shaped the answer, if any. */
  fault: 'fail5xx' | 'rateLimit' | 'reject' | 'acceptThenTimeout' | null;
  requestId: string;
  at: string;
}

export type RequestNote = Partial<Pick<ApiRequestRecord, 'externalId' | 'orderId' | 'replayed' | 'fault'>>;

const DEFAULT_SIZE = 20_000;

/**
 * The API calls received, oldest first and bounded. Handlers note what they
 * learn about a call (its external_id, the order, a fault) while serving it;
 * the record is written once, when the answer is sent or abandoned.
 */
export function createRequestLog(size = DEFAULT_SIZE) {
  const entries: ApiRequestRecord[] = [];
  const notes = new WeakMap<object, RequestNote>();
  const written = new WeakSet<object>();
  return {
    note(request: object, note: RequestNote): void {
      notes.set(request, { ...notes.get(request), ...note });
    },
    write(request: object, entry: Omit<ApiRequestRecord, keyof RequestNote>): void {
      if (written.has(request)) return;
      written.add(request);
      const note = notes.get(request) ?? {};
      entries.push({ externalId: null, orderId: null, replayed: false, fault: null, ...entry, ...note });
      if (entries.length > size) entries.splice(0, entries.length - size);
    },
    list: (): ApiRequestRecord[] => [...entries],
    clear(): void {
      entries.length = 0;
    },
  };
}

export type RequestLog = ReturnType<typeof createRequestLog>;
