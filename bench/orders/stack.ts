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
import type { CheckoutDeps } from '../../src/orders/checkout.service.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { gatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { supplierSandboxClient } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { cpuSnapshot, postgresScope, type CpuSnapshot } from './cpu.ts';
import { claimBenchDatabase, loadCatalogue, recreateDatabase, type Catalogue } from './database.ts';
import { startHelper, type Helper } from './helper.ts';
import { DATABASE_NAME, SUPPLIER_PARKED_DELAY_MS, type BenchOptions } from './model.ts';
import { note } from './progress.ts';
import { spawnWorker, type WorkerProcess } from './worker-process.ts';

export interface Stack {
  config: Config;
  url: string;
  pool: pg.Pool;
  db: Db;
  app: FastifyInstance;
  appUrl: string;
  boss: PgBoss;
  helper: Helper;
  /** With phase 5 or 6: the supplier sandbox (in the helper thread) and what the worker was given for it. */
  supplier: SupplierSide | undefined;
  worker: WorkerProcess;
  catalogue: Catalogue;
  checkoutDeps: CheckoutDeps;
  /** With --count-queries: the worker's statement counts, once it has stopped. */
  workerQueryCountsFile: string | undefined;
  /** CPU time so far of the web side, the helper thread, the worker and the bench database's Postgres processes. */
  cpu(): CpuSnapshot | undefined;
  /** reply.elapsedTime of every POST /webhooks/stripe since the last take(). */
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

  const pool = createPool(url, appLog);
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

  const config = loadConfig({
    DATABASE_URL: url, STRIPE_API_BASE: helper.gatewayUrl, SMTP_URL: helper.smtpUrl, STRIPE_WEBHOOK_SECRET: webhookSecret,
    PUBLIC_URL: 'http://shop.bench.test', LOG_LEVEL: options.logLevel, SESSION_SECRET: randomBytes(32).toString('base64url'),
    ...(supplier ? { SUPPLIER_API_URL: `${supplier.url}/v1`, SUPPLIER_API_TOKEN: supplier.apiToken, SUPPLIER_WEBHOOK_SECRET: supplier.webhookSecret } : {}),
  });

  // As src/server.ts: the web process only enqueues (a received webhook's job); the worker works the queues.
  const boss = createBoss(url, appLog, { instanceName: 'web', max: 2 });
  await boss.start();
  closers.push({ what: 'the web pg-boss', close: () => boss.stop({ graceful: false, close: true }) });
  await createQueues(boss, allQueues);

  const stripe = createStripeClient(config.stripe);
  const app = await build(config, { pool, db, log: appLog, boss, stripe });
  const stripeTimes = serverTimes();
  const supplierTimes = serverTimes();
  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url === '/webhooks/stripe') stripeTimes.push(reply.elapsedTime);
    else if (request.routeOptions.url === '/webhooks/supplier') supplierTimes.push(reply.elapsedTime);
  });
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push({ what: 'the app', close: () => app.close() });
  await gatewaySandboxClient(helper.gatewayUrl).configure({ webhookUrl: `${appUrl}/webhooks/stripe` });
  if (supplier) await supplierSandboxClient(supplier.url).configure({ webhookUrl: `${appUrl}/webhooks/supplier` });

  const queryCountsFile = options.countQueries ? path.join(os.tmpdir(), `tanktop-bench-orders-worker-queries-${process.pid}.json`) : undefined;
  note(`starting the worker process (node src/worker.ts${options.profileDir ? `, --cpu-prof into ${options.profileDir}` : ''})`);
  const worker = await spawnWorker({
    databaseUrl: url, stripeApiBase: helper.gatewayUrl, smtpUrl: helper.smtpUrl, webhookSecret, logLevel: options.logLevel, queryCountsFile,
    supplier: supplier ? { apiUrl: `${supplier.url}/v1`, apiToken: supplier.apiToken, webhookSecret: supplier.webhookSecret } : undefined,
  }, logFd, options.profileDir);
  closers.push({
    what: 'the worker',
    close: async () => note(`worker stopped: ${await worker.stop()}`),
  });

  const { rows: [backend] } = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
  const postgres = postgresScope(backend!.pid, DATABASE_NAME);
  return {
    config, url, pool, db, app, appUrl, boss, helper, supplier, worker, catalogue, workerQueryCountsFile: queryCountsFile,
    cpu: () => cpuSnapshot(worker.pid, postgres),
    checkoutDeps: { db, stripe, config, log: appLog },
    webhookTimes: stripeTimes,
    supplierWebhookTimes: supplierTimes,
    close: closeAll,
  };
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
