import { spawn, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import { announceFirstUserSetup } from './auth/first-user-hint.ts';
import { createFirstUserSetup } from './auth/first-user-setup.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseUnavailableError } from './db/connection-check.ts';
import { createDb } from './db/kysely.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase, type DatabaseHandle } from './db/open-database.ts';
import { createPool } from './db/pool.ts';
import { startDevSandboxes, type DevSandboxes } from './dev-sandboxes.ts';
import { build } from './http/app.ts';
import { allQueues } from './jobs/all-queues.ts';
import { createBoss, startBoss } from './jobs/boss.ts';
import { createQueues } from './jobs/create-queues.ts';
import { createLogger } from './logger.ts';
import { createStripeClient } from './orders/stripe-client.ts';
import { progressPrinter } from './seed/progress.ts';
import { demoSeedOptions } from './seed/seed-options.ts';
import { seed } from './seed/seeder.ts';
import { startFoldLoop, type FoldLoop } from './stats/fold-loop.ts';
import { startPartitionLoop, type PartitionLoop } from './stats/partition-loop.ts';
import { foldRollups } from './stats/stats-maintenance.repository.ts';
import { stopOnSignals } from './stop-on-signals.ts';

/**
 * `make start`: database (embedded unless DATABASE_URL), migrations, a demo
 * data set when the database is empty, the payment, mail and alert sandboxes
 * when no real gateway, SMTP server or chat webhook is configured (src/dev-sandboxes.ts), the HTTP
 * service, and the job worker as a separate process (`node src/worker.ts`,
 * same environment). Ctrl-C stops everything in reverse order.
 */
let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`tanktop: ${error.message}\n`);
  process.exit(3);
}
const log = createLogger(config.logLevel);

let database: DatabaseHandle | undefined;
let app: FastifyInstance | undefined;
let foldLoop: FoldLoop | undefined;
let partitionLoop: PartitionLoop | undefined;
let pool: ReturnType<typeof createPool> | undefined;
let sandboxes: DevSandboxes | undefined;
let boss: PgBoss | undefined;
let worker: WorkerProcess | undefined;

/** The worker stops gracefully on SIGTERM (running jobs finish); past this it is killed, and its jobs are retried. */
const WORKER_STOP_MS = 20_000;

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'shutting down');
  await app?.close();
  await worker?.stop();
  await boss?.stop({ graceful: false, close: true });
  await foldLoop?.stop();
  await partitionLoop?.stop();
  await sandboxes?.close();
  await pool?.end();
  await database?.close();
  log.info('stopped');
}

// A second Ctrl-C, or a hang, ends it regardless.
stopOnSignals(log, shutdown, WORKER_STOP_MS + 10_000);

try {
  database = await openDatabase(config, log);
  await migrate(database.url, 'up', log);
  pool = createPool(database.url, log, { max: config.databasePoolSize });
  const db = createDb(pool, { pooling: config.databasePooling });
  // The months ahead exist before the first sale is written (and the demo seed creates its own months).
  partitionLoop = await startPartitionLoop(pool, config.salesPartitionsAhead, log);

  const { rows } = await pool.query<{ empty: boolean }>('select not exists (select from sales) and not exists (select from customers) as empty');
  if (config.demoSales > 0 && rows[0]?.empty) {
    log.info({ sales: config.demoSales }, 'the database is empty: loading the demo data set (DEMO_SALES=0 skips this)');
    const progress = progressPrinter();
    await seed(pool, demoSeedOptions(config.demoSales), ({ table, done, total }) => progress.update(table, done, total));
    progress.done('demo data loaded; folding the rollups…');
    await foldRollups(db);
    await pool.query('analyze');
  }

  foldLoop = startFoldLoop(pool, config.statsFoldIntervalMs, log);

  // The sandboxes' addresses, and the address the gateway sends shoppers back
  // to, become the configuration of the service and of the worker alike.
  sandboxes = await startDevSandboxes(process.env, log);
  const serviceEnv: Record<string, string> = { ...sandboxes.env };
  if (!process.env.PUBLIC_URL && config.http.port !== 0) serviceEnv.PUBLIC_URL = `http://${reachableHost(config.http.host)}:${config.http.port}`;
  config = loadConfig({ ...process.env, ...serviceEnv });

  // The web process only enqueues (the job of a received webhook); the worker works the queues.
  boss = createBoss(database.url, log, { instanceName: 'web', max: 2, pooling: config.databasePooling, superviseIntervalSeconds: config.jobSuperviseSeconds });
  await startBoss(boss);
  await createQueues(boss, allQueues);

  const setup = createFirstUserSetup();
  app = await build(config, { pool, db, log, boss, stripe: createStripeClient(config.stripe), setup });
  const address = await app.listen({ host: config.http.host, port: config.http.port });
  const local = `http://${reachableHost(config.http.host)}:${(app.server.address() as AddressInfo).port}`;
  await sandboxes.setWebhookUrl(`${local}/webhooks/stripe`);
  await sandboxes.setSupplierWebhookUrl(`${local}/webhooks/supplier`);

  // The worker joins the same database (not the embedded server's life cycle: this process owns that).
  // START_WORKER=false: workers are processes of their own (docs/deploy.md), as many as the queues need.
  if (config.startWorker) worker = startWorkerProcess({ ...process.env, ...serviceEnv, DATABASE_URL: database.url });

  const lines = [
    `Tanktop is running at ${address}  (health: ${address}/healthz; Ctrl-C stops it)`,
    `  shop:             ${local}/shop`,
    sandboxes.mail
      ? `  mailbox:          ${sandboxes.mail.httpUrl}  (mail sandbox; SMTP at ${sandboxes.mail.smtpUrl})`
      : `  mail:             ${config.mail.smtpUrl.replace(/\/\/[^@/]*@/, '//')}`,
    sandboxes.gatewayUrl
      ? `  payment sandbox:  ${sandboxes.gatewayUrl}  (no real money; webhooks to ${local}/webhooks/stripe)`
      : `  payment gateway:  ${config.stripe.apiBase ?? 'https://api.stripe.com'}`,
    sandboxes.alerts
      ? `  alerts:           ${sandboxes.alerts.pageUrl}  (alert sandbox: the team's chat channel; webhook ${sandboxes.alerts.url})`
      // The configured webhook is a secret (Slack's URL carries its token): its host only.
      : `  alerts:           ${new URL(config.alerts.webhookUrl).origin}  (ALERT_WEBHOOK_URL)`,
    sandboxes.supplierUrl
      ? `  supplier sandbox: ${sandboxes.supplierUrl}  (nothing is made or shipped; API at ${sandboxes.supplierUrl}/v1, webhooks to ${local}/webhooks/supplier)`
      : `  supplier:         ${config.supplier.apiUrl ? new URL(config.supplier.apiUrl).origin : 'none (SUPPLIER_API_URL is unset: paid orders wait)'}`,
    worker
      ? `  worker:           pid ${worker.pid ?? '?'}  (webhooks, invoices, e-mail, alerts)`
      : `  worker:           none started (START_WORKER=false: run npm run worker)`,
    // Last, where a newcomer looks: with no users, nothing opens without it.
    ...(await announceFirstUserSetup(pool, setup, local, log)),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
} catch (error) {
  if (error instanceof DatabaseUnavailableError || error instanceof ConfigError) {
    process.stderr.write(`tanktop: ${error.message}\n`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`tanktop: port ${config.http.port} is already in use; set PORT to a free one\n`);
  } else {
    log.fatal({ err: error }, 'start-up failed');
  }
  await worker?.stop();
  await boss?.stop({ graceful: false, close: true }).catch(() => {});
  await foldLoop?.stop();
  await partitionLoop?.stop();
  await sandboxes?.close();
  await pool?.end();
  await database?.close();
  process.exit(3);
}

/** An address the browser and the sandboxes can reach: 0.0.0.0 and :: mean this machine. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

interface WorkerProcess {
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after WORKER_STOP_MS; resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * `node src/worker.ts` with the service's environment: web and worker are
 * separate processes, as in production. It runs in a process group of its
 * own, so Ctrl-C reaches only this process, which then stops the worker with
 * one SIGTERM (a second signal would make the worker quit without letting
 * its running jobs finish). Never restarted automatically: if it exits, the
 * log says so, and jobs wait in the queue until a worker runs again.
 */
function startWorkerProcess(env: NodeJS.ProcessEnv): WorkerProcess {
  let stopping = false;
  const child: ChildProcess = spawn(process.execPath, [path.join(import.meta.dirname, 'worker.ts')], {
    // The IPC channel is how the worker notices a killed service: it closes with the parent.
    env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true,
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) log.error({ code, signal }, 'the worker process stopped; jobs wait in the queue until a worker runs again (npm run worker)');
      resolve();
    });
    child.once('error', (error) => {
      log.error({ err: error }, 'the worker process could not be started');
      resolve();
    });
  });
  return {
    pid: child.pid,
    async stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_STOP_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
