import { createHmac } from 'node:crypto';

/**
 * The `Stripe-Signature` header Stripe sends: `t=<unix seconds>,v1=<hex>`,
 * where v1 is the HMAC-SHA256, keyed with the endpoint's whole secret
 * (`whsec_…`), of `"<t>.<raw body>"`. stripe-node's constructEvent checks it.
 */
export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}
