import { createHmac } from 'node:crypto';

/**
 * The `Supplier-Signature` header: `t=<unix seconds>,v1=<hex>`, where v1 is
 * the HMAC-SHA256, keyed with the webhook secret, of `"<t>.<raw body>"`.
 * Signing the timestamp with the body lets a receiver refuse old replays.
 */
export function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}
