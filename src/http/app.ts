import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import type { Logger } from '../logger.ts';
import { installErrorHandler } from './error-handler.ts';
import { healthzRoutes } from './healthz.routes.ts';

export interface AppDependencies {
  pool: pg.Pool;
  db: Db;
  log: Logger;
}

/** The HTTP application, without a listener: the server listens, tests inject. */
export async function build(config: Config, { pool, log }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger });
  installErrorHandler(app);
  await app.register(healthzRoutes, { pool });
  void config; // the stats and order features read their settings from it
  return app;
}
