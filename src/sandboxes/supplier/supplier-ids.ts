import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random id such as `ord_3fT9…`: opaque to the client, never reused. */
export function randomId(prefix: string, length = 20): string {
  let id = `${prefix}_`;
  for (const byte of randomBytes(length)) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

/** A carrier-looking tracking number: two letters and eighteen digits. */
export function trackingNumber(): string {
  let digits = '';
  for (const byte of randomBytes(18)) digits += String(byte % 10);
  return `SB${digits}`;
}
