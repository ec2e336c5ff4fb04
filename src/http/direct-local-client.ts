import type { FastifyRequest } from 'fastify';

/** Headers a proxy adds: a request carrying one did not come from this machine, whatever its socket says. */
function forwarded(request: FastifyRequest): boolean {
  return Object.keys(request.headers).some((name) => name === 'forwarded' || name === 'x-real-ip' || name.startsWith('x-forwarded-'));
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * A client on this machine, connected directly. Directly means the socket's
 * own address, never X-Forwarded-For, which a client can write (with
 * TRUST_PROXY Fastify's request.ip believes it), and no forwarding headers at
 * all, since behind a proxy on this machine every socket is local.
 */
export function directLocalClient(request: FastifyRequest): boolean {
  return !forwarded(request) && isLoopback(request.socket.remoteAddress);
}
