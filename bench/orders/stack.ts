/**
 * Everything the benchmark runs, started in order and closed in reverse:
 * the bench database, the helper thread (gateway and mail sandboxes, and with
 * phase 5 or 6 the supplier sandbox, which the worker is then configured
 * with), the web side as `make start` runs it (build() with a pool of 10 and a
 * pg-boss instance 'web' that only enqueues, listening on a port of its own),
 * and the worker as a separate process.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { createDb, type Db } from '../../src/db/kysely.ts';
import { createPool } from '../../src/db/pool.ts';
import { build } from '../../src/http/app.ts';
import { allQueues } from '../../src/jobs/all-queues.ts';
import { createBoss } from '../../src/jobs/boss.ts';
import { createQueues } from '../../src/jobs/create-queues.ts';
import type { Logger } from '../../src/logger.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { gatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { supplierSandboxClient } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { cpuSnapshot, postgresScope, type CpuSnapshot } from './cpu.ts';
import { claimBenchDatabase, loadCatalogue, recreateDatabase, type Catalogue } from './database.ts';
import { startHelper, type Helper } from './helper.ts';
import { httpShop, type Checkout } from './http-shop.ts';
import { DATABASE_NAME, PGBOUNCER_POOL_SIZE, SUPPLIER_PARKED_DELAY_MS, type BenchOptions } from './model.ts';
import { note } from './progress.ts';
import { inProcessCheckout } from './shoppers.ts';
import { spawnWebProcess, type WebProcess } from './web-processes.ts';
import { spawnWorkers, type WorkerGroup } from './worker-group.ts';
// The tests' PgBouncer launcher (as bench:pages --via-pgbouncer uses it).
import { launchPgBouncer } from '../../test/helpers/pgbouncer.ts';

export interface Stack {
  config: Config;
  url: string;
  pool: pg.Pool;
  db: Db;
  /** The in-process app and its pg-boss; undefined with --web N (the web processes have their own). */
  app: FastifyInstance | undefined;
  boss: PgBoss | undefined;
  /** The first web side's base URL (the only one without --web). */
  appUrl: string;
  /** Every web process's base URL (shoppers and webhooks are spread over them). */
  webUrls: string[];
  /** The web processes' pids (none when the web side is this process). */
  webPids: number[];
  /** One shopper's checkout: in process (createCheckout), or with --web N over HTTP round-robin. */
  checkout: Checkout;
  helper: Helper;
  /** With phase 5 or 6: the supplier sandbox (in the helper thread) and what the worker was given for it. */
  supplier: SupplierSide | undefined;
  /** The --workers M worker processes, held as one. */
  worker: WorkerGroup;
  catalogue: Catalogue;
  /** With --count-queries: each worker's statement counts, once it has stopped. */
  workerQueryCountsFiles: readonly string[];
  /** With --count-queries and --web N: each web process's, once it has stopped. */
  webQueryCountsFiles: readonly string[];
  /** CPU time so far of the web side, the helper thread, the workers and the bench database's Postgres processes. */
  cpu(): CpuSnapshot | undefined;
  /** reply.elapsedTime of every POST /webhooks/stripe since the last take() (in-process web side only; none with --web N). */
  webhookTimes: { take(): number[] };
  /** The same for POST /webhooks/supplier. */
  supplierWebhookTimes: { take(): number[] };
  close(): Promise<void>;
}

export interface SupplierSide {
  /** The sandbox's base URL; its API is under /v1, its control API under /_sandbox. */
  url: string;
  apiToken: string;
  webhookSecret: string;
}

/** What is already open when a later step fails or the run is stopped: closed in reverse. */
type Closer = { what: string; close: () => Promise<unknown> };

export async function startStack(adminUrl: string, options: BenchOptions, benchLog: Logger): Promise<Stack> {
  const closers: Closer[] = [];
  const closeAll = async () => {
    for (const { what, close } of closers.reverse()) {
      await close().catch((error: unknown) => note(`could not close ${what}: ${(error as Error)?.message ?? String(error)}`));
    }
    closers.length = 0;
  };
  try {
    return await start(adminUrl, options, benchLog, closers, closeAll);
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function start(adminUrl: string, options: BenchOptions, benchLog: Logger, closers: Closer[], closeAll: () => Promise<void>): Promise<Stack> {
  const claim = await claimBenchDatabase(adminUrl);
  closers.push({ what: 'the claim on the benchmark database', close: () => claim.release() });
  note(`re-creating and migrating the database tanktop_bench_orders`);
  const url = await recreateDatabase(adminUrl, benchLog);

  // Emptied, then opened for appending by both writers: the web side's pino and the worker's stderr.
  writeFileSync(options.logFile, '');
  const logFd = openSync(options.logFile, 'a');
  closers.push({ what: 'the log file', close: async () => closeSync(logFd) });
  // The web side logs as the service does (pino, synchronous writes), to the log file instead of stderr.
  const appLog = pino({ name: 'tanktop-web', level: options.logLevel }, pino.destination({ dest: options.logFile, sync: true, append: true }));

  // With --web N the app has its own pools in its processes: this one is the benchmark's bookkeeping (checks,
  // completion polls, the HTTP shoppers' order look-ups, 8 at once), kept small, as 2 web and 4 worker processes
  // already hold 88 connections (10 + 2 each web, 10 + 6 each worker) of a default max_connections of 100.
  const pool = createPool(url, appLog, options.deployment.web === undefined ? {} : { max: 4 });
  const db = createDb(pool);
  closers.push({ what: 'the pool', close: async () => { await db.destroy(); if (!pool.ended) await pool.end(); } });
  note('loading the catalogue (agents, products, customers)');
  const catalogue = await loadCatalogue(pool);
  // A user exists: the app does not print its first-user hint on stdout when it listens.
  await pool.query(`insert into users (name, password_hash) values ('bench', 'scrypt$unused')`);

  const webhookSecret = `whsec_bench_${randomBytes(16).toString('hex')}`;
  // Phases 5 and 6 share one supplier sandbox: it starts parked (24 h delays: what it accepts stays pending),
  // and phase 6 sets its delays to zero for its own orders, then parks it again. Phase 5 was measured with
  // the sandbox's webhooks one at a time; phase 6 sends five or six per order at once, so with phase 6 it
  // delivers as many at once as the gateway.
  const wantsSupplier = options.phases.has(5) || options.phases.has(6);
  const supplierSettings = wantsSupplier ? {
    apiToken: `supplier_bench_${randomBytes(16).toString('hex')}`,
    webhookSecret: `supplier_whsec_bench_${randomBytes(16).toString('hex')}`,
    delaysMs: { production: SUPPLIER_PARKED_DELAY_MS, shipping: SUPPLIER_PARKED_DELAY_MS, delivery: SUPPLIER_PARKED_DELAY_MS },
    webhookConcurrency: options.phases.has(6) ? options.webhookConcurrency : 1,
  } : undefined;
  note(`starting the gateway, mail${wantsSupplier ? ' and supplier' : ''} sandboxes (helper thread; ${options.webhookConcurrency} gateway webhook deliveries in flight` +
    `${supplierSettings ? `, ${supplierSettings.webhookConcurrency} supplier ones; the supplier parked: production 24 h away, its orders stay pending` : ''})`);
  const helper = await startHelper({ webhookSecret, webhookConcurrency: options.webhookConcurrency, supplier: supplierSettings });
  closers.push({ what: 'the sandboxes', close: () => helper.close() });
  const supplier: SupplierSide | undefined = supplierSettings && helper.supplierUrl
    ? { url: helper.supplierUrl, apiToken: supplierSettings.apiToken, webhookSecret: supplierSettings.webhookSecret }
    : undefined;

  const sessionSecret = randomBytes(32).toString('base64url');
  const config = loadConfig({
    DATABASE_URL: url, STRIPE_API_BASE: helper.gatewayUrl, SMTP_URL: helper.smtpUrl, STRIPE_WEBHOOK_SECRET: webhookSecret,
    PUBLIC_URL: 'http://shop.bench.test', LOG_LEVEL: options.logLevel, SESSION_SECRET: sessionSecret,
    ...(supplier ? { SUPPLIER_API_URL: `${supplier.url}/v1`, SUPPLIER_API_TOKEN: supplier.apiToken, SUPPLIER_WEBHOOK_SECRET: supplier.webhookSecret } : {}),
  });

  const { deployment } = options;
  // The services' way to the database: directly, or through a PgBouncer of the run's own in transaction mode.
  // The benchmark's own pool (bookkeeping, checks) always goes directly.
  let serviceUrl = url;
  if (deployment.viaPgBouncer) {
    note(`starting PgBouncer (transaction mode, ${PGBOUNCER_POOL_SIZE} server connections to ${DATABASE_NAME})`);
    const bouncer = await launchPgBouncer({ serverUrl: adminUrl, poolMode: 'transaction', poolSize: PGBOUNCER_POOL_SIZE });
    closers.push({ what: 'PgBouncer', close: () => bouncer.stop() });
    serviceUrl = bouncer.url(DATABASE_NAME);
  }
  const pooling = deployment.viaPgBouncer ? 'transaction' as const : 'session' as const;

  const stripeTimes = serverTimes();
  const supplierTimes = serverTimes();
  let web: Pick<Stack, 'app' | 'boss' | 'appUrl' | 'webUrls' | 'webPids' | 'checkout'>;
  if (deployment.web === undefined) {
    // As src/server.ts: the web process only enqueues (a received webhook's job); the worker works the queues.
    const boss = createBoss(url, appLog, { instanceName: 'web', max: 2 });
    await boss.start();
    closers.push({ what: 'the web pg-boss', close: () => boss.stop({ graceful: false, close: true }) });
    await createQueues(boss, allQueues);

    const stripe = createStripeClient(config.stripe);
    const app = await build(config, { pool, db, log: appLog, boss, stripe });
    app.addHook('onResponse', async (request, reply) => {
      if (request.routeOptions.url === '/webhooks/stripe') stripeTimes.push(reply.elapsedTime);
      else if (request.routeOptions.url === '/webhooks/supplier') supplierTimes.push(reply.elapsedTime);
    });
    const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    closers.push({ what: 'the app', close: () => app.close() });
    web = { app, boss, appUrl, webUrls: [appUrl], webPids: [], checkout: inProcessCheckout({ db, stripe, config, log: appLog }) };
  } else {
    const processes: WebProcess[] = [];
    closers.push({ what: 'the web processes', close: async () => note(`web processes stopped: ${(await Promise.all(processes.map((p) => p.stop()))).join(', ')}`) });
    // At once: each migrates (and re-applies sql/) at start, under migrate's advisory lock, one after the other.
    note(`starting ${deployment.web} web process${deployment.web === 1 ? '' : 'es'} (node src/server.ts, DEV_SANDBOXES=off, START_WORKER=false${deployment.viaPgBouncer ? ', through PgBouncer' : ''})`);
    const started = await Promise.allSettled(Array.from({ length: deployment.web }, (_, i) => spawnWebProcess(
      { databaseUrl: serviceUrl, pooling, stripeApiBase: helper.gatewayUrl, smtpUrl: helper.smtpUrl, webhookSecret, sessionSecret, logLevel: options.logLevel },
      { logFd, profileDir: options.profileDir, queryCountsFile: options.countQueries ? queryCountsFile(`web-${i + 1}`) : undefined },
    )));
    for (const result of started) if (result.status === 'fulfilled') processes.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const webUrls = processes.map((p) => p.url);
    web = { app: undefined, boss: undefined, appUrl: webUrls[0]!, webUrls, webPids: processes.map((p) => p.pid), checkout: await httpShop(webUrls, pool) };
  }
  // Several web processes: the gateway sandbox sends each delivery attempt to the next, as a load balancer would.
  await gatewaySandboxClient(helper.gatewayUrl).configure({ webhookUrl: web.webUrls.length === 1 ? `${web.appUrl}/webhooks/stripe` : web.webUrls.map((base) => `${base}/webhooks/stripe`) });
  if (supplier) await supplierSandboxClient(supplier.url).configure({ webhookUrl: `${web.appUrl}/webhooks/supplier` });

  const workerCounts = options.countQueries ? queryCountsFile('worker') : undefined;
  note(`starting ${deployment.workers === 1 ? 'the worker process' : `${deployment.workers} worker processes`} (node src/worker.ts${options.profileDir ? `, --cpu-prof into ${options.profileDir}` : ''})`);
  const worker = await spawnWorkers(deployment.workers, {
    databaseUrl: serviceUrl, pooling, stripeApiBase: helper.gatewayUrl, smtpUrl: helper.smtpUrl, webhookSecret, logLevel: options.logLevel, queryCountsFile: workerCounts,
    supplier: supplier ? { apiUrl: `${supplier.url}/v1`, apiToken: supplier.apiToken, webhookSecret: supplier.webhookSecret } : undefined,
  }, logFd, options.profileDir);
  closers.push({
    what: 'the worker',
    close: async () => note(`worker stopped: ${await worker.stop()}`),
  });

  const { rows: [backend] } = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
  const postgres = postgresScope(backend!.pid, DATABASE_NAME);
  return {
    config, url, pool, db, ...web, helper, supplier, worker, catalogue,
    workerQueryCountsFiles: worker.queryCountsFiles,
    webQueryCountsFiles: options.countQueries && deployment.web !== undefined ? Array.from({ length: deployment.web }, (_, i) => queryCountsFile(`web-${i + 1}`)) : [],
    cpu: () => cpuSnapshot({ workers: worker.pids, web: web.webPids }, postgres),
    webhookTimes: stripeTimes,
    supplierWebhookTimes: supplierTimes,
    close: closeAll,
  };
}

/** With --count-queries: where a process of the run writes its statement counts when it exits. */
function queryCountsFile(name: string): string {
  return path.join(os.tmpdir(), `tanktop-bench-orders-${name}-queries-${process.pid}.json`);
}

/** Server times of one route, taken (and forgotten) by each phase. */
function serverTimes() {
  let times: number[] = [];
  return {
    push(ms: number) {
      times.push(ms);
    },
    take() {
      const taken = times;
      times = [];
      return taken;
    },
  };
}
