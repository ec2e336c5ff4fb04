import { randomInt } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Ids in Stripe's style: a type prefix and random base62 (`pi_3Qx…`, `cs_test_a1…`). */
export function stripeId(prefix: string, length = 24): string {
  let id = '';
  for (let i = 0; i < length; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return `${prefix}_${id}`;
}

/** Checkout Session ids are long and carry the mode (`cs_test_…`). */
export function checkoutSessionId(): string {
  return stripeId('cs_test', 58);
}

export function requestId(): string {
  return stripeId('req', 14);
}
