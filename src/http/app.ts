import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type Stripe from 'stripe';
import { installAuth } from '../auth/auth.plugin.ts';
import { authRoutes } from '../auth/auth.routes.ts';
import { firstUserHint } from '../auth/first-user-hint.ts';
import { createFirstUserSetup, type FirstUserSetup } from '../auth/first-user-setup.ts';
import { setupRoutes } from '../auth/setup.routes.ts';
import { createSessionCache } from '../auth/session-cache.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import { createReadRouting, type ReadRouting } from '../db/read-replicas.ts';
import type { Logger } from '../logger.ts';
import { metricsRoutes } from '../metrics/metrics.routes.ts';
import { opsRoutes } from '../ops/ops.routes.ts';
import { shopRoutes } from '../shop/shop.routes.ts';
import { statsRoutes } from '../stats/stats.routes.ts';
import { stripeWebhookRoutes } from '../orders/stripe-webhook.routes.ts';
import { supplierWebhookRoutes } from '../supplier/supplier-webhook.routes.ts';
import { closeConnectionsOnStop } from './close-connections-on-stop.ts';
import { frameworkErrors, installErrorHandler } from './error-handler.ts';
import { healthzRoutes } from './healthz.routes.ts';
import { installInputGuard } from './input.ts';
import { installViews } from './views.ts';

export interface AppDependencies {
  pool: pg.Pool;
  db: Db;
  log: Logger;
  /** The job queue: webhooks enqueue their processing in it. */
  boss?: PgBoss;
  /** The payment gateway client (default: one from config). */
  stripe?: Stripe;
  /** The first-user setup link's token (default: none issued; src/server.ts issues one when there are no users). */
  setup?: FirstUserSetup;
  /**
   * Where the stats pages read (default: the replicas of config.readReplicas,
   * made here and closed with the app; none configured: the primary).
   */
  reads?: ReadRouting;
  /** Told of every route as it is registered, plugins' included (the fuzz test reads the route table from it). */
  onRoute?: (route: RouteOptions) => void;
}

/** The HTTP application, without a listener: the server listens, tests inject. */
export async function build(config: Config, { pool, db, log, boss, stripe, setup = createFirstUserSetup(), onRoute, reads }: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, trustProxy: config.trustProxy, frameworkErrors });
  if (onRoute) app.addHook('onRoute', onRoute);
  installErrorHandler(app);
  closeConnectionsOnStop(app);
  // Before any route: every route's query, path and form values pass its bounds (input.ts).
  installInputGuard(app);
  await installViews(app);
  const sessions = createSessionCache(pool);
  await installAuth(app, config, sessions, pool);
  await app.register(healthzRoutes, { pool });
  await app.register(metricsRoutes, { db, config });
  await app.register(authRoutes, { pool, config, sessions });
  await app.register(setupRoutes, { pool, config, setup });
  // Only the stats pages may read a replica; sign-in, sessions and every write stay on `pool`.
  if (!reads) {
    const own = createReadRouting({ primary: { pool, db }, config: config.readReplicas, pooling: config.databasePooling, log });
    app.addHook('onClose', () => own.close());
    reads = own;
  }
  await app.register(statsRoutes, { reads });
  await app.register(stripeWebhookRoutes, { db, config, boss });
  await app.register(supplierWebhookRoutes, { db, config, boss });
  await app.register(shopRoutes, { db, config, log, stripe });
  await app.register(opsRoutes, { db, pool, config, log, boss });
  firstUserHint(app, pool, config, setup);
  return app;
}
