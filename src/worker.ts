import os from 'node:os';
import type { PgBoss } from 'pg-boss';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseUnavailableError } from './db/connection-check.ts';
import { createDb } from './db/kysely.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase, type DatabaseHandle } from './db/open-database.ts';
import { createPool } from './db/pool.ts';
import { createMailer, type Mailer } from './email/mailer.ts';
import { createBoss, startBoss } from './jobs/boss.ts';
import { startWorkers, type Workers } from './jobs/start-workers.ts';
import { createLogger } from './logger.ts';
import { createStripeClient } from './orders/stripe-client.ts';
import { stopOnSignals } from './stop-on-signals.ts';

/**
 * `npm run worker`: the job worker. Opens the database as the service does
 * (DATABASE_URL, or the embedded Postgres that `make start` runs, joined),
 * then works the order workflow's and the e-mail outbox's queues and runs
 * the scheduled jobs. SIGINT/SIGTERM stop it gracefully: no new jobs, the
 * running ones finish (or, after the timeout, are left to be retried).
 * A SIGKILL loses nothing either: a running job's heartbeats stop, and the
 * supervisor of any pg-boss instance retries it.
 */
const GRACEFUL_STOP_MS = 30_000;

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`tanktop worker: ${error.message}\n`);
  process.exit(3);
}
const log = createLogger(config.logLevel, 'tanktop-worker');
lowerPriority(config.workerNice);

/**
 * Background jobs yield the CPU to the web process (and to whatever answers
 * people) when both share cores: a webhook is answered first, and the jobs it
 * queued use the time left. On an idle machine the worker runs as fast as
 * ever. Linux sets niceness per thread: this is the main (JavaScript) thread.
 */
function lowerPriority(nice: number): void {
  if (nice === 0) return;
  try {
    os.setPriority(Math.max(os.getPriority(), nice));
  } catch (error) {
    log.warn({ err: error, nice }, 'could not lower the worker\'s CPU priority: it runs at the normal one');
  }
}

let database: DatabaseHandle | undefined;
let pool: ReturnType<typeof createPool> | undefined;
let boss: PgBoss | undefined;
let workers: Workers | undefined;
let mailer: Mailer | undefined;

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'worker stopping');
  await workers?.stop();
  await boss?.stop({ graceful: true, timeout: GRACEFUL_STOP_MS });
  await mailer?.close();
  await pool?.end();
  await database?.close();
  log.info('worker stopped');
}

const stop = stopOnSignals(log, shutdown, GRACEFUL_STOP_MS + 10_000);
// Started by `make start` (with an IPC channel): a service that dies, even by
// SIGKILL, closes the channel, and its worker stops instead of living on alone.
if (process.send) process.on('disconnect', () => stop('parent exited'));

try {
  database = await openDatabase(config, log);
  // The service migrates too; whichever starts first does it, the other finds nothing to do.
  await migrate(database.url, 'up', log);
  pool = createPool(database.url, log, { max: config.databasePoolSize });
  const db = createDb(pool, { pooling: config.databasePooling });
  mailer = createMailer(config.mail.smtpUrl, { from: config.mail.from });
  boss = createBoss(database.url, log, { instanceName: 'worker', schedule: true, pooling: config.databasePooling, superviseIntervalSeconds: config.jobSuperviseSeconds });
  await startBoss(boss);
  workers = await startWorkers({ boss, db, stripe: createStripeClient(config.stripe), config, log, mailer, pollingIntervalSeconds: config.jobPollIntervalMs / 1000 });
  log.info({ pid: process.pid }, 'worker running');
  process.stdout.write(`Tanktop worker is running (pid ${process.pid}; Ctrl-C stops it)\n`);
} catch (error) {
  if (error instanceof DatabaseUnavailableError || error instanceof ConfigError) {
    process.stderr.write(`tanktop worker: ${error.message}\n`);
  } else {
    log.fatal({ err: error }, 'worker start-up failed');
  }
  await boss?.stop({ graceful: false }).catch(() => {});
  await pool?.end();
  await database?.close();
  process.exit(3);
}
