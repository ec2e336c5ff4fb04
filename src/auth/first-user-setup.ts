import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The one-time token of the first-user setup link (/setup/<token>). It lives
 * in this process's memory only: issued when the service starts listening on
 * a database without users, valid until a user exists (whoever created it) or
 * the process stops. Several web processes each issue their own; each link
 * opens on the process that printed it.
 */
export interface FirstUserSetup {
  /** A new token (replacing any earlier one), for the link printed at start. */
  issue(): string;
  /** Whether `presented` is the pending token, compared in constant time; false when none is pending. */
  matches(presented: string): boolean;
  /** Whether a token is pending (not yet used, not revoked). */
  readonly pending: boolean;
  /** Ends the token: the first user exists. */
  revoke(): void;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function createFirstUserSetup(): FirstUserSetup {
  // Only the token's digest is kept. When none is pending, a random digest
  // stands in, so a refused token costs the same comparison either way.
  let expected = digest(randomBytes(32).toString('base64url'));
  let pending = false;
  return {
    issue() {
      // 32 random bytes, base64url: 43 characters.
      const token = randomBytes(32).toString('base64url');
      expected = digest(token);
      pending = true;
      return token;
    },
    matches(presented) {
      // Digests first: timingSafeEqual needs equal lengths, and digests do not tell the token's length.
      const same = timingSafeEqual(digest(presented), expected);
      return same && pending;
    },
    get pending() {
      return pending;
    },
    revoke() {
      pending = false;
      expected = digest(randomBytes(32).toString('base64url'));
    },
  };
}
