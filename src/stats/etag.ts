import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Templates and code can change between runs: a new process never answers 304 to an old page. */
const bootId = randomBytes(8).toString('hex');

/**
 * A weak ETag for a stats response: the rollups' change marker, the business
 * day (the default range moves at midnight), the kind of server that was read
 * (primary or replica, with any lag notice: read-notice.ts), the exact URL,
 * and who asks (session and CSRF cookies: the page shows the user and embeds
 * a form token).
 * Weak: two renders differ in the form token's salt, while meaning the same.
 */
export function statsEtag(request: FastifyRequest, marker: string, today: string, scope: string): string {
  const hash = createHash('sha256');
  for (const part of [bootId, marker, today, scope, request.method, request.url, request.headers.cookie ?? '']) hash.update(part).update('\0');
  return `W/"${hash.digest('base64url').slice(0, 27)}"`;
}

/** True (and the 304 sent) when the client's copy is current; else the headers for a fresh response are set. */
export function answeredNotModified(request: FastifyRequest, reply: FastifyReply, etag: string): boolean {
  // Private: pages carry customers' personal data and the user's name; no-cache: always revalidate.
  void reply.header('cache-control', 'private, no-cache').header('vary', 'Cookie').header('etag', etag);
  const ifNoneMatch = request.headers['if-none-match'];
  if (!ifNoneMatch) return false;
  const weak = (tag: string) => tag.trim().replace(/^W\//, '');
  const matches = ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => weak(tag) === weak(etag));
  if (matches) void reply.status(304).send();
  return matches;
}
