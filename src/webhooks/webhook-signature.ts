import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = 'valid' | 'missing' | 'malformed' | 'stale' | 'mismatch';

/**
 * Checks a `t=<unix seconds>,v1=<hex>[,v1=<hex>…]` signature header, the form
 * both providers use (`Stripe-Signature`, `Supplier-Signature`), against the
 * raw body: v1 is the HMAC-SHA256, keyed with the webhook secret, of
 * `"<t>.<raw body>"`. Several v1 values may come while a secret is rotated;
 * one matching is enough. Other keys (Stripe's `v0` test signatures) are
 * ignored. Each v1 is compared in constant time, as bytes of equal length (a
 * value of another length cannot match and is not compared). A timestamp
 * further than `toleranceSeconds` from now, either way, is stale: a replay of
 * an old delivery, or one signed for later (stripe-node's constructEvent
 * refuses only the past, which is why neither route uses it).
 */
export function checkWebhookSignature(header: string | undefined, body: Buffer, secret: string, toleranceSeconds: number, nowMs = Date.now()): SignatureCheck {
  if (!header) return 'missing';
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]+$/i.test(value)) signatures.push(value.toLowerCase());
  }
  if (timestamp === undefined || signatures.length === 0) return 'malformed';
  const expected = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest();
  const matches = signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) return 'mismatch';
  // Checked after the HMAC: only the provider can make a signature with a fresh timestamp.
  if (Math.abs(nowMs / 1000 - timestamp) > toleranceSeconds) return 'stale';
  return 'valid';
}

/** A header for tests and tools: what the providers send. */
export function webhookSignatureHeader(secret: string, body: string | Buffer, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}
