import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt (memory-hard, built into Node) with OWASP's minimum parameters.
 * The stored form names its parameters, scrypt$N$r$p$salt$hash, so the cost
 * can be raised later and old hashes still verify.
 */
const COST = { N: 2 ** 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
/** N=2^17, r=8 needs 128 MiB; Node's default cap is 32 MiB. */
const MAX_MEMORY = 256 * 1024 * 1024;

function derive(password: string, salt: Buffer, options: ScryptOptions, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { ...options, maxmem: MAX_MEMORY }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, COST, KEY_LENGTH);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) }, expected.length);
  return timingSafeEqual(key, expected);
}

/**
 * A hash of a random password, verified when the user name is unknown, so a
 * wrong name costs the same time as a wrong password and names cannot be
 * probed by timing.
 */
export const decoyHash: Promise<string> = hashPassword(randomBytes(16).toString('hex'));

/** Rules a new password must meet, as a sentence, or undefined when it is fine. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 10) return 'the password must be at least 10 characters long';
  if (password.length > 1024) return 'the password must be at most 1024 characters long';
  // A tab, newline or NUL in a password is a paste gone wrong, and cannot be typed at the prompt.
  if (/\p{Cc}/u.test(password)) return 'the password must not contain control characters (tabs, line breaks and the like)';
  return undefined;
}
