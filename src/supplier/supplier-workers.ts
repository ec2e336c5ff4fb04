import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import { workQueue, type WorkOptions } from '../jobs/work-queue.ts';
import { pollSupplierOrdersJob } from './jobs/poll-supplier-orders.job.ts';
import { processSupplierEventJob } from './jobs/process-supplier-event.job.ts';
import { submitOrderJob } from './jobs/submit-order.job.ts';
import { createSupplierClient, type SupplierClient } from './supplier-client.ts';
import { SupplierQueues } from './supplier-queues.ts';

/** Cron expressions (UTC) of the scheduled supplier jobs. pg-boss may start them up to a minute late. */
export const SUPPLIER_SCHEDULES = Object.freeze({
  [SupplierQueues.pollOrders]: '*/5 * * * *',
});

/** The supplier client from config, recording its calls in db; undefined without SUPPLIER_API_URL. */
export function supplierClientFrom(config: Config, db: Db, log: Logger): SupplierClient | undefined {
  const { apiUrl, apiToken, timeoutMs } = config.supplier;
  return apiUrl ? createSupplierClient({ apiUrl, apiToken, timeoutMs, db, log: log.child({ component: 'supplier-client' }) }) : undefined;
}

/**
 * Starts the supplier workflow's workers; returns the queues worked (for
 * offWork) and whether the schedules apply. Webhook events are always
 * processed (that needs no supplier API); submissions and polling only with
 * a supplier configured (SUPPLIER_API_URL): without one, paid orders wait in
 * supplier__submit_order for a worker that has one, as e-mails wait for a mailer.
 */
export async function registerSupplierWorkers(
  deps: { db: Db; boss: PgBoss; config: Config; client?: SupplierClient },
  log: Logger,
  options: WorkOptions = {},
): Promise<{ queues: string[]; schedules: Record<string, string> }> {
  const client = deps.client ?? supplierClientFrom(deps.config, deps.db, log);
  const jobDeps = { db: deps.db, boss: deps.boss, config: deps.config, log, client };
  await workQueue(deps.boss, SupplierQueues.processEvent, log, processSupplierEventJob(jobDeps), { concurrency: 4, ...options });
  if (!client) {
    log.warn('SUPPLIER_API_URL is unset: paid orders wait in supplier__submit_order until a worker with a supplier runs');
    return { queues: [SupplierQueues.processEvent], schedules: {} };
  }
  await workQueue(deps.boss, SupplierQueues.submitOrder, log, submitOrderJob(jobDeps), { concurrency: 4, ...options });
  await workQueue(deps.boss, SupplierQueues.pollOrders, log, pollSupplierOrdersJob(jobDeps), { concurrency: 1, ...options });
  return { queues: Object.values(SupplierQueues), schedules: { ...SUPPLIER_SCHEDULES } };
}
