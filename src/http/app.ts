import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type Stripe from 'stripe';
import { installAuth } from '../auth/auth.plugin.ts';
import { authRoutes } from '../auth/auth.routes.ts';
import { firstUserHint } from '../auth/first-user-hint.ts';
import { createSessionCache } from '../auth/session-cache.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import type { Logger } from '../logger.ts';
import { metricsRoutes } from '../metrics/metrics.routes.ts';
import { opsRoutes } from '../ops/ops.routes.ts';
import { shopRoutes } from '../shop/shop.routes.ts';
import { statsRoutes } from '../stats/stats.routes.ts';
import { stripeWebhookRoutes } from '../orders/stripe-webhook.routes.ts';
import { supplierWebhookRoutes } from '../supplier/supplier-webhook.routes.ts';
import { installErrorHandler } from './error-handler.ts';
import { healthzRoutes } from './healthz.routes.ts';
import { installViews } from './views.ts';

export interface AppDependencies {
  pool: pg.Pool;
  db: Db;
  log: Logger;
  /** The job queue: webhooks enqueue their processing in it. */
  boss?: PgBoss;
  /** The payment gateway client (default: one from config). */
  stripe?: Stripe;
  /** Told of every route as it is registered, plugins' included (the fuzz test reads the route table from it). */
  onRoute?: (route: RouteOptions) => void;
}

/** The HTTP application, without a listener: the server listens, tests inject. */
export async function build(config: Config, { pool, db, log, boss, stripe, onRoute }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, trustProxy: config.trustProxy });
  if (onRoute) app.addHook('onRoute', onRoute);
  installErrorHandler(app);
  await installViews(app);
  const sessions = createSessionCache(pool);
  await installAuth(app, config, sessions);
  await app.register(healthzRoutes, { pool });
  await app.register(metricsRoutes, { db, config });
  await app.register(authRoutes, { pool, config, sessions });
  await app.register(statsRoutes, { pool, db });
  await app.register(stripeWebhookRoutes, { db, config, boss, stripe });
  await app.register(supplierWebhookRoutes, { db, config, boss });
  await app.register(shopRoutes, { db, config, log, stripe });
  await app.register(opsRoutes, { db, pool, config, log, boss });
  firstUserHint(app, pool);
  return app;
}
