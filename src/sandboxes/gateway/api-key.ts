import { StripeApiError } from './stripe-error.ts';

const TEST_KEY = /^sk_test_[A-Za-z0-9_]{1,247}$/;

/**
 * The secret key of an API call, from `Authorization: Bearer sk_test_…` (what
 * stripe-node sends) or Basic with the key as the user (what curl -u sends).
 * Any well-formed test key is accepted; a missing or ill-formed one is
 * Stripe's 401, so stripe-node raises StripeAuthenticationError.
 */
export function apiKeyOf(authorization: string | undefined): string {
  const key = keyFromHeader(authorization);
  if (key === undefined) {
    throw new StripeApiError(401, 'invalid_request_error',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      { remembered: false });
  }
  if (!TEST_KEY.test(key)) {
    const hint = key.startsWith('sk_live_') ? ' (the payment sandbox takes test keys only)' : '';
    throw new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${redact(key)}${hint}`, { remembered: false });
  }
  return key;
}

function keyFromHeader(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const [scheme, credentials = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer') return credentials || undefined;
  if (scheme?.toLowerCase() === 'basic') {
    const user = Buffer.from(credentials, 'base64').toString('utf8').split(':')[0];
    return user || undefined;
  }
  return undefined;
}

/** Stripe shows a key's prefix and last four characters only. */
function redact(key: string): string {
  const prefix = /^[a-z]{2}_(?:test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}${'*'.repeat(Math.max(0, key.length - prefix.length - 4))}${key.slice(-4)}`.slice(0, 120);
}
