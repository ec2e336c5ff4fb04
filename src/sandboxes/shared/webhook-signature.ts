import { createHmac } from 'node:crypto';

/**
 * The value of the signature header both sandboxes send (`Stripe-Signature`,
 * `Supplier-Signature`): `t=<unix seconds>,v1=<hex>`, where v1 is the
 * HMAC-SHA256, keyed with the endpoint's whole secret (Stripe's `whsec_…`
 * included), of `"<t>.<raw body>"`. Signing the timestamp with the body lets a
 * receiver refuse old replays; stripe-node's constructEvent checks this form.
 */
export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}
