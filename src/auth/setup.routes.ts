import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.ts';
import { directLocalClient } from '../http/direct-local-client.ts';
import { HttpError } from '../http/http-error.ts';
import { renderPage } from '../http/render.ts';
import type { FirstUserSetup } from './first-user-setup.ts';
import { hashPassword, passwordProblem } from './password.ts';
import { setSessionCookie } from './session-cookie.ts';
import { userNameProblem } from './user-name.ts';
import { createSession, insertFirstUser, usersExist } from './users.repository.ts';

interface SetupBody {
  name?: unknown;
  password?: unknown;
  password_confirmation?: unknown;
}

interface SetupOptions {
  pool: pg.Pool;
  config: Config;
  setup: FirstUserSetup;
}

/** Whether this client may use the setup link at all: this machine, unless SETUP_ALLOW_REMOTE=true. */
export function setupReachable(request: FastifyRequest, config: Config): boolean {
  return config.setupAllowRemote || directLocalClient(request);
}

/** The token is a secret: request logs show the route, never the path. */
const redactedRequest = (request: FastifyRequest) => ({
  method: request.method, url: '/setup/[token]', host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort,
});

const sentence = (fragment: string) => `${fragment[0]!.toUpperCase()}${fragment.slice(1)}.`;

/**
 * GET/POST /setup/<token>: the first user, in the browser, through the
 * one-time link `make start` prints while there are no users. Every refusal
 * (a wrong or used token, no setup pending, a user exists, another machine)
 * is the site's ordinary 404 page, the same whatever the reason, so a wrong
 * token learns nothing about whether a setup is pending. Rate limited like
 * sign-in, CSRF-checked like every form.
 */
export const setupRoutes: FastifyPluginAsync<SetupOptions> = async (app, { pool, config, setup }) => {
  const routeConfig = {
    public: true,
    // The form checks these itself (user-name.ts, password.ts), so a refused value shows the form again with its sentence.
    formFieldsCheckedByRoute: ['name', 'password', 'password_confirmation'],
    rateLimit: {
      max: config.loginAttemptsPerMinute, timeWindow: '1 minute',
      errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) =>
        new HttpError(429, 'too_many_attempts', `Too many attempts from your address: wait ${context.after} and try again.`),
    },
  };

  app.addHook('onRequest', async (_request, reply) => {
    // The link is in the address bar: keep it out of Referer headers and caches.
    void reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
  });

  /** preValidation, before the CSRF check: a refused link is a 404 whatever the form says. */
  async function openOnlyWithTheToken(request: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply) {
    if (!setupReachable(request, config) || !setup.matches(request.params.token)) return notFound(reply);
    // Another process, or `npm run user -- add`, may have created a user since this link was printed.
    if (await usersExist(pool)) {
      setup.revoke();
      request.log.info('the setup link was opened after a user was created: closed');
      return notFound(reply);
    }
  }

  const showForm = (request: FastifyRequest<{ Params: { token: string } }>, reply: FastifyReply, status: number, problem?: string, name = '') =>
    renderPage(request, reply.status(status), 'auth/setup', { title: 'Create the first user', token: request.params.token, problem, name });

  app.get<{ Params: { token: string } }>('/setup/:token', {
    config: routeConfig, logSerializers: { req: redactedRequest }, preValidation: openOnlyWithTheToken,
  }, async (request, reply) => showForm(request, reply, 200));

  app.post<{ Params: { token: string } }>('/setup/:token', {
    config: routeConfig, logSerializers: { req: redactedRequest }, preValidation: [openOnlyWithTheToken, app.csrfProtection],
  }, async (request, reply) => {
    const body = (request.body ?? {}) as SetupBody;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const password = typeof body.password === 'string' ? body.password : '';
    const confirmation = typeof body.password_confirmation === 'string' ? body.password_confirmation : '';
    const problem = userNameProblem(name)
      ?? (password === '' ? 'enter a password' : passwordProblem(password))
      ?? (password !== confirmation ? 'the two passwords differ' : undefined);
    if (problem) return showForm(request, reply, 400, sentence(problem), name.replace(/\p{Cc}/gu, ''));

    const user = await insertFirstUser(pool, name, await hashPassword(password));
    setup.revoke();
    // A concurrent request (here or in another process) created the first user: this one is too late.
    if (!user) return notFound(reply);
    const token = await createSession(pool, user.id, config.sessionTtlHours);
    setSessionCookie(request, reply, config, token);
    request.log.info({ userId: user.id, user: user.name }, 'first user created through the setup link; the link is closed');
    return reply.redirect('/', 303);
  });
};

function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}
