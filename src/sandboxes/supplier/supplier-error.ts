/**
 * Every error the supplier API answers has one shape:
 * `{ error: { code, message, ...details } }` — a machine code the client
 * branches on, a sentence for people, and fields that name what was wrong
 * (`field`, `sku`, `order_id`).
 */
export class SupplierApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  body(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

export function validationFailed(field: string, message: string): SupplierApiError {
  return new SupplierApiError(400, 'validation_failed', message, { field });
}

export function notFound(message: string): SupplierApiError {
  return new SupplierApiError(404, 'not_found', message);
}
