import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { HttpError } from '../http/http-error.ts';
import { databaseRateLimitStore } from './rate-limit-store.ts';
import { safeNext } from './safe-next.ts';
import { sessionSecret } from './session-secret.ts';
import type { SessionCache } from './session-cache.ts';
import type { User } from './users.repository.ts';

export const SESSION_COOKIE = 'tanktop_session';

/** Public routes registered by plugins that do not know about sign-in (the health check is for probes). */
const publicRoutes = new Set(['/healthz']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user, set for every route that is not public. */
    user: User | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (/healthz, /login). */
    public?: boolean;
  }
}

/**
 * Sign-in for everything but the routes marked `config: { public: true }` and
 * the stylesheet: secure by default, so a new route cannot be forgotten.
 * Not a plugin (it decorates the root instance, for every route).
 */
export async function installAuth(app: FastifyInstance, config: Config, sessions: SessionCache, pool: pg.Pool): Promise<void> {
  await app.register(cookie, { secret: await sessionSecret(config) });
  await app.register(formbody);
  await app.register(csrf, {
    // The CSRF secret lives in a signed cookie (double submit); forms carry a token derived from it.
    // Routes check it in preValidation: the form body is parsed by then (not yet at onRequest).
    cookieKey: 'tanktop_csrf',
    cookieOpts: { signed: true, httpOnly: true, sameSite: 'lax', path: '/' },
  });
  await app.register(rateLimit, {
    global: false,
    // Counted in the database: one count per client address and route across every web process.
    store: databaseRateLimitStore(pool),
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'too_many_attempts', `Too many sign-in attempts from your address: wait ${context.after} and try again.`),
  });
  app.decorateRequest('user', null);

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    // No route: the 404 page, which shows nothing private.
    if (!route || request.routeOptions.config?.public || publicRoutes.has(route) || route.startsWith('/static/')) return;
    const token = sessionToken(request);
    request.user = token ? ((await sessions.find(token)) ?? null) : null;
    if (request.user) return;
    if (request.url.startsWith('/api/')) {
      throw new HttpError(401, 'unauthenticated', 'Sign in first: this API needs a session cookie from /login.');
    }
    // Only an address the sign-in would go back to: a very long one (a query of
    // kilobytes) would make a Location header clients refuse, and /login drops it anyway.
    const next = request.method === 'GET' && safeNext(request.url) === request.url ? `?next=${encodeURIComponent(request.url)}` : '';
    return reply.redirect(`/login${next}`, 303);
  });
}

export function sessionToken(request: FastifyRequest): string | undefined {
  const token = request.cookies[SESSION_COOKIE];
  return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}
