import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { directLocalClient } from '../http/direct-local-client.ts';

export type MetricsAccess = 'allowed' | 'unauthorized' | 'forbidden';

/**
 * Who may read /metrics. With a token: whoever sends `Authorization: Bearer
 * <token>` (compared in constant time), else unauthorized. Without one: only a
 * client on this machine, connected directly (directLocalClient), else forbidden.
 */
export function metricsAccess(request: FastifyRequest, token: string | undefined): MetricsAccess {
  if (token !== undefined) {
    const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
    return presented !== undefined && sameSecret(presented, token) ? 'allowed' : 'unauthorized';
  }
  return directLocalClient(request) ? 'allowed' : 'forbidden';
}

/** Digests first: timingSafeEqual needs equal lengths, and the digests do not tell the token's length. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
