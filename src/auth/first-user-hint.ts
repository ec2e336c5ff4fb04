import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { countUsers } from './users.repository.ts';

/**
 * When the service starts listening with no users yet, say how to create the
 * first one: every page needs a sign-in, so otherwise nobody can get in.
 * (onListen: tests that inject never listen, so they stay quiet.)
 */
export function firstUserHint(app: FastifyInstance, pool: pg.Pool): void {
  app.addHook('onListen', async () => {
    try {
      if ((await countUsers(pool)) > 0) return;
      process.stdout.write(
        '\nNo users yet, and every stats page needs a sign-in. Create the first user with:\n' +
          '    npm run user -- add NAME        (asks for the password; or pipe it on stdin)\n\n',
      );
    } catch (error) {
      app.log.warn({ err: error }, 'could not count users');
    }
  });
}
