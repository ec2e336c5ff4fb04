/**
 * Errors in Stripe's wire shape, `{ error: { type, code, message, param } }`,
 * with the status codes Stripe uses, so stripe-node raises the class it would
 * raise against Stripe (400/404 → StripeInvalidRequestError, 401 →
 * StripeAuthenticationError, 400 idempotency_error → StripeIdempotencyError,
 * 5xx → StripeAPIError).
 */
export type StripeErrorType = 'invalid_request_error' | 'idempotency_error' | 'api_error' | 'card_error';

export interface StripeErrorBody {
  error: { type: StripeErrorType; code?: string; message: string; param?: string; doc_url?: string; request_log_url?: string };
}

export class StripeApiError extends Error {
  readonly status: number;
  readonly type: StripeErrorType;
  readonly code: string | undefined;
  readonly param: string | undefined;
  /**
   * Stripe keeps an idempotent result only once the endpoint began its work:
   * a request refused for its parameters is not remembered under its key.
   */
  readonly remembered: boolean;

  constructor(status: number, type: StripeErrorType, message: string, options: { code?: string; param?: string; remembered?: boolean } = {}) {
    super(message);
    this.status = status;
    this.type = type;
    this.code = options.code;
    this.param = options.param;
    this.remembered = options.remembered ?? true;
  }

  body(): StripeErrorBody {
    const error: StripeErrorBody['error'] = { type: this.type, message: this.message };
    if (this.code) {
      error.code = this.code;
      error.doc_url = `https://stripe.com/docs/error-codes/${this.code.replace(/_/g, '-')}`;
    }
    if (this.param) error.param = this.param;
    return { error };
  }
}

export function resourceMissing(objectName: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, 'invalid_request_error', `No such ${objectName}: '${id}'`, { code: 'resource_missing', param, remembered: false });
}

export function parameterMissing(param: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', `Missing required param: ${param}.`, { code: 'parameter_missing', param, remembered: false });
}

export function parameterUnknown(param: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', `Received unknown parameter: ${param}`, { code: 'parameter_unknown', param, remembered: false });
}

export function parameterInvalid(param: string, message: string, code = 'parameter_invalid_string'): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, { code, param, remembered: false });
}

export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`, { remembered: false });
}
