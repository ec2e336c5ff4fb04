import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { readForm, readQuery } from '../http/input.ts';
import { renderPage } from '../http/render.ts';
import { SESSION_COOKIE, sessionToken } from './auth.plugin.ts';
import { safeNext } from './safe-next.ts';
import { decoyHash, verifyPassword } from './password.ts';
import type { SessionCache } from './session-cache.ts';
import { createSession, findUserForLogin } from './users.repository.ts';

export { safeNext };

interface LoginBody {
  name?: unknown;
  password?: unknown;
  next?: unknown;
}

/** GET/POST /login and POST /logout. Sign-in attempts are rate limited per client address. */
export const authRoutes: FastifyPluginAsync<{ pool: pg.Pool; config: Config; sessions: SessionCache }> = async (app, { pool, config, sessions }) => {
  const showLogin = (request: FastifyRequest, reply: FastifyReply, status: number, problem?: string, name = '') =>
    renderPage(request, reply.status(status), 'auth/login', {
      title: 'Sign in', problem, name,
      next: safeNext(readQuery(request.query, ['next'], { unknown: 'ignore' })('next') ?? readForm(request.body, ['next'])('next')),
    });

  app.get('/login', { config: { public: true } }, async (request, reply) => showLogin(request, reply, 200));

  app.post('/login', {
    config: { public: true, rateLimit: { max: config.loginAttemptsPerMinute, timeWindow: '1 minute' } },
    preValidation: app.csrfProtection,
  }, async (request, reply) => {
    const field = readForm(request.body, ['name', 'password', 'next']);
    const name = field('name') ?? '';
    // Not trimmed: a password is what was typed (the input guard refused control characters and arrays).
    const body = (request.body ?? {}) as LoginBody;
    const password = field('password') === undefined ? '' : String(body.password);
    if (!name || !password) return showLogin(request, reply, 400, 'Enter your user name and your password.', name);

    const user = await findUserForLogin(pool, name);
    // A missing user costs a hash check too, so a wrong name takes as long as a wrong password.
    const valid = await verifyPassword(password, user?.password_hash ?? (await decoyHash));
    if (!user || !valid) {
      request.log.info({ user: name }, 'sign-in refused');
      return showLogin(request, reply, 401, 'That user name and password do not match.', name);
    }
    const token = await createSession(pool, user.id, config.sessionTtlHours);
    request.log.info({ userId: user.id }, 'signed in');
    void reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true, sameSite: 'lax', path: '/', maxAge: config.sessionTtlHours * 3600,
      // Secure whenever the client reached us over TLS (directly, or via a trusted proxy).
      secure: request.protocol === 'https',
    });
    return reply.redirect(safeNext(field('next')), 303);
  });

  app.post('/logout', { config: { public: true }, preValidation: app.csrfProtection }, async (request, reply) => {
    const token = sessionToken(request);
    if (token) await sessions.end(token);
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.redirect('/login', 303);
  });
};
