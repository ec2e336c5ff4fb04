/**
 * An experiment, not the shipped worker (`--worker tuned`): src/worker.ts
 * with the two pg-boss changes the benchmark's report proposes, so their
 * effect can be measured against the shipped one. It starts everything as
 * src/worker.ts does (startWorkers: every queue, handler, schedule and
 * alert), then works three queues differently:
 *
 * 1. email__send is a `notify` queue like the order workflow's: a queued
 *    e-mail wakes the e-mail workers at once instead of at their next 2 s poll.
 * 2. The three queues on an order's path (stripe__process_event,
 *    invoice__render_pdf, email__send) are worked in batches of
 *    TANKTOP_BENCH_BATCH_SIZE jobs (default 5) with per-job results and
 *    `burstWhenBatchFull`: a worker whose fetch came back full fetches again at
 *    once instead of sleeping until its next poll (pg-boss ignores that option
 *    at batchSize 1, which is why the shipped workers drain a backlog at
 *    localConcurrency jobs per 2 s). Jobs of a batch run one after the other,
 *    so concurrency stays the shipped 4 / 2 / 4; each job succeeds or fails
 *    (and is retried) on its own, as with batchSize 1.
 */
import type { JobWithMetadata, PgBoss } from 'pg-boss';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { DatabaseUnavailableError } from '../../src/db/connection-check.ts';
import { createDb } from '../../src/db/kysely.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/open-database.ts';
import { createPool } from '../../src/db/pool.ts';
import { EMAIL_SEND_QUEUE } from '../../src/email/email.queues.ts';
import { createMailer, type Mailer } from '../../src/email/mailer.ts';
import { sendEmailJob } from '../../src/email/send-email.job.ts';
import { createBoss } from '../../src/jobs/boss.ts';
import { startWorkers, type Workers } from '../../src/jobs/start-workers.ts';
import type { JobHandler } from '../../src/jobs/work-queue.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import type { OrderJobDeps } from '../../src/orders/jobs/order-jobs.deps.ts';
import { processStripeEventJob } from '../../src/orders/jobs/process-stripe-event.job.ts';
import { renderInvoicePdfJob } from '../../src/orders/jobs/render-invoice-pdf.job.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';

const GRACEFUL_STOP_MS = 30_000;
const POLLING_SECONDS = 2;

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`tanktop tuned worker: ${error.message}\n`);
  process.exit(3);
}
const batchSize = Number(process.env.TANKTOP_BENCH_BATCH_SIZE || 5);
const log = createLogger(config.logLevel, 'tanktop-worker-tuned');

/** A batch handler settling each job on its own; the jobs of a batch run in turn. */
function perJob<T extends object>(queue: string, run: (job: JobWithMetadata<T>, jobLog: Logger) => Promise<unknown>) {
  return async (jobs: JobWithMetadata<T>[]) => {
    const results = [];
    for (const job of jobs) {
      const jobLog = log.child({ queue, jobId: job.id });
      try {
        await run(job, jobLog);
        results.push({ id: job.id, status: 'completed' as const });
      } catch (error) {
        jobLog.warn({ err: error, attempt: job.retryCount + 1 }, 'job failed; pg-boss retries it');
        results.push({ id: job.id, status: 'failed' as const, output: { message: String((error as Error)?.message ?? error) } });
      }
    }
    return results;
  };
}

/** Replaces the shipped workers of a queue by batched ones with the same concurrency. */
async function workBatched<T extends object>(boss: PgBoss, queue: string, concurrency: number, run: (job: JobWithMetadata<T>, jobLog: Logger) => Promise<unknown>): Promise<void> {
  await boss.offWork(queue, { wait: true });
  await boss.work(queue, {
    batchSize, localConcurrency: concurrency, includeMetadata: true, perJobResults: true, burstWhenBatchFull: true,
    pollingIntervalSeconds: POLLING_SECONDS, notifyPollingIntervalSeconds: POLLING_SECONDS,
  }, perJob(queue, run));
}

function viaHandler<T extends object>(queue: string, handler: JobHandler<T>) {
  return (job: JobWithMetadata<T>, jobLog: Logger) => handler(job.data, { jobId: job.id, queue, retryCount: job.retryCount, log: jobLog });
}

let database: DatabaseHandle | undefined;
let pool: ReturnType<typeof createPool> | undefined;
let boss: PgBoss | undefined;
let mailer: Mailer | undefined;
let workers: Workers | undefined;

let shuttingDown = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (shuttingDown) process.exit(130);
    shuttingDown = true;
    setTimeout(() => process.exit(1), GRACEFUL_STOP_MS + 10_000).unref();
    (async () => {
      await workers?.stop(); // offWork by queue name: the batched workers stop too
      await boss?.stop({ graceful: true, timeout: GRACEFUL_STOP_MS });
      await mailer?.close();
      await pool?.end();
      await database?.close();
    })().then(() => process.exit(0), (error: unknown) => {
      log.error({ err: error }, 'worker shutdown failed');
      process.exit(1);
    });
  });
}

try {
  database = await openDatabase(config, log);
  pool = createPool(database.url, log);
  const db = createDb(pool);
  mailer = createMailer(config.mail.smtpUrl, { from: config.mail.from });
  boss = createBoss(database.url, log, { instanceName: 'worker', schedule: true });
  await boss.start();
  const stripe = createStripeClient(config.stripe);
  workers = await startWorkers({ boss, db, stripe, config, log, mailer });
  await boss.updateQueue(EMAIL_SEND_QUEUE, { notify: true });
  const deps: OrderJobDeps = { db, boss, stripe, config };
  const send = sendEmailJob({ db, mailer, log });
  await workBatched(boss, Queues.processStripeEvent, 4, viaHandler(Queues.processStripeEvent, processStripeEventJob(deps)));
  await workBatched(boss, Queues.renderInvoicePdf, 2, viaHandler(Queues.renderInvoicePdf, renderInvoicePdfJob(deps)));
  await workBatched(boss, EMAIL_SEND_QUEUE, 4, (job: JobWithMetadata<{ emailId: string }>) => send([job]));
  process.stdout.write(`Tanktop tuned worker is running (pid ${process.pid}, batches of ${batchSize})\n`);
} catch (error) {
  if (error instanceof DatabaseUnavailableError || error instanceof ConfigError) process.stderr.write(`tanktop tuned worker: ${error.message}\n`);
  else log.fatal({ err: error }, 'worker start-up failed');
  await boss?.stop({ graceful: false }).catch(() => {});
  await pool?.end();
  await database?.close();
  process.exit(3);
}
