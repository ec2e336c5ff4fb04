import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { FirstUserSetup } from './first-user-setup.ts';
import { setupReachable } from './setup.routes.ts';
import { usersExist } from './users.repository.ts';

declare module 'fastify' {
  interface FastifyReply {
    /** Template variables of this reply: @fastify/view merges them into the model of every render. */
    locals: Record<string, unknown> | null;
  }
}

/**
 * When the service starts listening on a database with no users, every page
 * needs a sign-in and nobody can sign in: issue the one-time setup link,
 * log it, and return the console lines that show it. Nothing when a user
 * exists. Called by src/server.ts once it listens, with its own address.
 */
export async function announceFirstUserSetup(pool: pg.Pool, setup: FirstUserSetup, baseUrl: string, log: Logger): Promise<string[]> {
  if (await usersExist(pool)) return [];
  const url = `${baseUrl}/setup/${setup.issue()}`;
  log.info({ setupUrl: url }, 'no users yet: the setup link creates the first one (valid until a user exists or this process stops)');
  return [
    '',
    'No users yet, and every stats page needs a sign-in.',
    `  First user: open ${url}`,
    '  (one-time link: valid until a user exists or this process stops; scripts: npm run user -- add NAME)',
  ];
}

/**
 * While there are no users, the login page says where the first one comes
 * from: the setup link in the console when this process printed one, else
 * `npm run user -- add`. Only to clients that may use the link (this machine,
 * unless SETUP_ALLOW_REMOTE): the world need not learn that the site has no
 * users yet. Sets `firstUserSetup` ('link' or 'command') for templates/auth/login.hbs.
 */
export function firstUserHint(app: FastifyInstance, pool: pg.Pool, config: Config, setup: FirstUserSetup): void {
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== '/login' || !setupReachable(request, config)) return;
    if (await usersExist(pool)) return;
    reply.locals = { ...reply.locals, firstUserSetup: setup.pending ? 'link' : 'command' };
  });
}
