import type { PgBoss, Queue } from 'pg-boss';
import type { Db } from '../db/kysely.ts';
import type { QueueSpec } from '../jobs/queue-spec.ts';
import type { Logger } from '../logger.ts';
import { ALERT_SEND_DEAD_LETTER_QUEUE, ALERT_SEND_QUEUE } from './alerts.queues.ts';
import { deadLetterAlertJob } from './dead-letter-alert.job.ts';
import { sendAlertJob, type SendAlertDependencies } from './send-alert.job.ts';

export interface AlertWorkerOptions {
  /** alert__send jobs taken at once by this process (default 2; they take turns on the rate limit's lock, each holding a database connection). */
  concurrency?: number;
  /** How often an idle worker looks for jobs, in seconds (alert__send: 2 by default; NOTIFY usually wakes it first). */
  pollingIntervalSeconds?: number;
}

/**
 * Starts the alert__send worker; returns the queues it works (for offWork).
 * Two jobs at a time: the senders take turns on the rate limit's lock anyway,
 * but with batches of one a worker fetches once per polling interval, and a
 * second one halves the time a backlog (an outage's burst) takes.
 */
export async function registerAlertWorkers(boss: PgBoss, deps: SendAlertDependencies, options: AlertWorkerOptions = {}): Promise<string[]> {
  const polling = options.pollingIntervalSeconds ?? 2;
  await boss.work(ALERT_SEND_QUEUE, {
    batchSize: 1,
    includeMetadata: true,
    localConcurrency: options.concurrency ?? 2,
    pollingIntervalSeconds: polling,
    // NOTIFY wakes a worker for a new job, not for a retry whose delay has passed.
    notifyPollingIntervalSeconds: polling,
  }, sendAlertJob(deps));
  // The URL is a secret (Slack's carries its token): its origin says enough.
  deps.log.info({ webhook: new URL(deps.config.alerts.webhookUrl).origin }, 'alerts are posted to the chat webhook');
  return [ALERT_SEND_QUEUE];
}

/**
 * Works a dead-letter queue: each job arriving there raises a critical alert
 * (`dead_letter:<queue>:<job id>`) and completes (see dead-letter-alert.job.ts
 * for what stays visible). Dead letters are rare and an alert a few seconds
 * late is fine: it polls every 5 s unless told otherwise.
 */
export function alertOnDeadLetter(boss: PgBoss, deadLetterQueue: string, deps: { db: Db; log: Logger }, options: AlertWorkerOptions = {}): Promise<string> {
  const polling = options.pollingIntervalSeconds ?? 5;
  return boss.work(deadLetterQueue, {
    batchSize: 1,
    includeMetadata: true,
    localConcurrency: 1,
    pollingIntervalSeconds: polling,
    notifyPollingIntervalSeconds: polling,
  }, deadLetterAlertJob({ db: deps.db, boss, log: deps.log }));
}

/**
 * The dead-letter queues of these specs, to alert on: every queue some other
 * queue names as its deadLetter, except alert__send's own and those in
 * `except` (queues whose jobs raise a more specific alert of their own on
 * their last attempt). An alert that could not be sent is on record in its
 * row (status failed) and in tanktop_jobs_failed; alerting about it would go
 * through the same broken channel and, with the channel down for good, round
 * and round.
 */
export function deadLetterQueuesToAlertOn(specs: readonly QueueSpec[], except: readonly string[] = []): string[] {
  const names = specs.map((spec) => (spec.options as Omit<Queue, 'name'>).deadLetter).filter((name): name is string => Boolean(name));
  return [...new Set(names)].filter((name) => name !== ALERT_SEND_DEAD_LETTER_QUEUE && !except.includes(name));
}
