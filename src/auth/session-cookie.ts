import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { SESSION_COOKIE } from './auth.plugin.ts';

/** The session cookie as /login sets it (HttpOnly, SameSite=Lax, Secure over TLS), for the token of a new session. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, config: Config, token: string): void {
  void reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true, sameSite: 'lax', path: '/', maxAge: config.sessionTtlHours * 3600,
    // Secure whenever the client reached us over TLS (directly, or via a trusted proxy).
    secure: request.protocol === 'https',
  });
}
