import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/kysely.ts';
import type { SyncDeps } from '../payment-sync.ts';

/** What the order workflow's job handlers need. */
export interface OrderJobDeps {
  db: Db;
  boss: PgBoss;
  stripe: Stripe;
  config: Config;
}

/** The payment workflow's dependencies, logging to the job's logger. */
export function workflowDeps(deps: OrderJobDeps, log: Logger): SyncDeps {
  return { db: deps.db, boss: deps.boss, stripe: deps.stripe, orders: deps.config.orders, log };
}
