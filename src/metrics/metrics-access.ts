import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

export type MetricsAccess = 'allowed' | 'unauthorized' | 'forbidden';

/** Headers a proxy adds: a request carrying one did not come from this machine, whatever its socket says. */
function forwarded(request: FastifyRequest): boolean {
  return Object.keys(request.headers).some((name) => name === 'forwarded' || name === 'x-real-ip' || name.startsWith('x-forwarded-'));
}

/**
 * Who may read /metrics. With a token: whoever sends `Authorization: Bearer
 * <token>` (compared in constant time), else unauthorized. Without one: only a
 * client on this machine, connected directly, else forbidden. Directly means
 * the socket's own address, never X-Forwarded-For, which a client can write
 * (with TRUST_PROXY Fastify's request.ip believes it), and no forwarding
 * headers at all, since behind a proxy on this machine every socket is local.
 */
export function metricsAccess(request: FastifyRequest, token: string | undefined): MetricsAccess {
  if (token !== undefined) {
    const presented = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
    return presented !== undefined && sameSecret(presented, token) ? 'allowed' : 'unauthorized';
  }
  return !forwarded(request) && isLoopback(request.socket.remoteAddress) ? 'allowed' : 'forbidden';
}

/** Digests first: timingSafeEqual needs equal lengths, and the digests do not tell the token's length. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
