/**
 * What went wrong talking to the supplier, as the workflow branches on it
 * (docs/supplier-api.md, "What our client relies on"):
 * - retryable: no answer (network, timeout), 5xx, 429 (with the Retry-After
 *   it asked for), 409 idempotency_key_in_use: the order may go through later;
 * - rejected: the supplier refused the order itself (422 invalid_address,
 *   unknown_sku, out_of_stock; 409 not_cancellable for a cancellation): sending
 *   it again changes nothing, a person must resolve it;
 * - request: our bug or our configuration (400, 401, 403, 404 on a path that
 *   should exist, 422 idempotency_key_reused): not retried, and not the
 *   customer's fault either.
 * A 409 duplicate_external_id never leaves the client: it fetches the order
 * that already exists instead.
 */
export class SupplierRetryableError extends Error {
  override name = 'SupplierRetryableError';
  /** The HTTP status, or null when no answer came (timeout, network). */
  readonly status: number | null;
  readonly code: string;
  /** From a 429's Retry-After: when the supplier wants to hear from us again. */
  readonly retryAfterSeconds: number | null;

  constructor(message: string, options: { status: number | null; code: string; retryAfterSeconds?: number | null; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.code = options.code;
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }
}

export class SupplierRejectedError extends Error {
  override name = 'SupplierRejectedError';
  readonly status: number;
  /** The supplier's machine code (`invalid_address`, `out_of_stock`, `not_cancellable`…). */
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/** 409 duplicate_external_id: the order exists at the supplier already (created by an attempt whose answer we lost). */
export class SupplierDuplicateError extends SupplierRejectedError {
  override name = 'SupplierDuplicateError';
}

/** A 4xx that says our request or our configuration is wrong (a bad token, a malformed body): fixed by us, then resubmitted. */
export class SupplierRequestError extends Error {
  override name = 'SupplierRequestError';
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
