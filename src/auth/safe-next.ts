/** Longer than any address of this site a sign-in redirect could have come from. */
const MAX_NEXT_LENGTH = 2000;
const PLACEHOLDER_ORIGIN = 'http://tanktop.invalid';

/**
 * Only a path on this site: never //evil.example or https://…, so sign-in
 * cannot be used to redirect away. Checking the first characters is not
 * enough: browsers drop tabs and newlines from a Location and read a
 * backslash as a slash, so `/<TAB>/evil.example` and `/\evil.example` lead
 * off-site. Hence only printable ASCII without backslashes (what our own
 * redirect to /login writes: the address percent-encoded), a single leading
 * slash, and the address must resolve to this site's origin. The text is
 * returned as given, never re-serialised: `/..//x` resolves to the path
 * `//x`, which written back would be protocol-relative.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > MAX_NEXT_LENGTH) return '/';
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(next) || next.includes('\\')) return '/';
  try {
    return new URL(next, PLACEHOLDER_ORIGIN).origin === PLACEHOLDER_ORIGIN ? next : '/';
  } catch {
    return '/';
  }
}
