import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { alertOnDeadLetter, deadLetterQueuesToAlertOn, registerAlertWorkers } from '../alerts/alerts.workers.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import { EMAIL_SEND_QUEUE } from '../email/email.queues.ts';
import { registerEmailWorkers } from '../email/email.workers.ts';
import type { Mailer } from '../email/mailer.ts';
import { Queues } from '../orders/order-queues.ts';
import { ORDER_SCHEDULES, registerOrderWorkers } from '../orders/order-workers.ts';
import { SELF_ALERTING_DEAD_LETTERS } from '../supplier/supplier-queues.ts';
import { registerSupplierWorkers } from '../supplier/supplier-workers.ts';
import { allQueues } from './all-queues.ts';
import { createQueues } from './create-queues.ts';

export interface WorkerDeps {
  /** Started; the caller stops it (after stop() below). */
  boss: PgBoss;
  db: Db;
  stripe: Stripe;
  config: Config;
  log: Logger;
  /** Sends the outbox's e-mails; without one, e-mails wait in the outbox for a process that has one. */
  mailer?: Mailer;
  /** How often idle workers poll (NOTIFY usually wakes them first); tests use less than the default 2 s. */
  pollingIntervalSeconds?: number;
  /** Register the cron schedules (default true; the boss must have been created with schedule: true to run them). */
  schedule?: boolean;
}

export interface Workers {
  /** Stops taking new jobs; the boss's graceful stop waits for those running. */
  stop(): Promise<void>;
}

/**
 * Everything a worker process runs, callable in-process by tests: creates the
 * queues (dead-letter queues first), starts the handlers of the order
 * workflow, of the e-mail outbox and of the alerts (alert__send, and an alert
 * for every job reaching a dead-letter queue), and schedules the periodic jobs.
 */
export async function startWorkers(deps: WorkerDeps): Promise<Workers> {
  const { boss, log } = deps;
  await createQueues(boss, allQueues);
  const options = deps.pollingIntervalSeconds ? { pollingIntervalSeconds: deps.pollingIntervalSeconds } : {};
  await registerOrderWorkers({ db: deps.db, boss, stripe: deps.stripe, config: deps.config }, log, options);
  const queues: string[] = Object.values(Queues);
  if (deps.mailer) {
    await registerEmailWorkers(boss, { db: deps.db, mailer: deps.mailer, log }, options);
    queues.push(EMAIL_SEND_QUEUE);
  }
  queues.push(...await registerAlertWorkers(boss, { db: deps.db, log, config: deps.config }, options));
  // Submissions and polling only with a supplier configured (SUPPLIER_API_URL); its webhooks always.
  const supplier = await registerSupplierWorkers({ db: deps.db, boss, config: deps.config }, log, options);
  queues.push(...supplier.queues);
  // Every job that reaches a dead-letter queue raises a critical alert (polled every 5 s: dead letters are rare),
  // but for those whose last attempt raised a specific one of its own.
  for (const queue of deadLetterQueuesToAlertOn(allQueues).filter((name) => !SELF_ALERTING_DEAD_LETTERS.includes(name))) {
    await alertOnDeadLetter(boss, queue, { db: deps.db, log });
    queues.push(queue);
  }
  if (deps.schedule ?? true) {
    for (const [queue, cron] of Object.entries({ ...ORDER_SCHEDULES, ...supplier.schedules })) await boss.schedule(queue, cron, {}, { tz: 'UTC' });
  }
  log.info({ queues }, 'workers started');
  return {
    async stop() {
      await Promise.all(queues.map((queue) => boss.offWork(queue, { wait: true })));
    },
  };
}
