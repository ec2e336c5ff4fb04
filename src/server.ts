import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from './config.ts';
import { DatabaseUnavailableError } from './db/connection-check.ts';
import { createDb } from './db/kysely.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase, type DatabaseHandle } from './db/open-database.ts';
import { createPool } from './db/pool.ts';
import { build } from './http/app.ts';
import { createLogger } from './logger.ts';
import { progressPrinter } from './seed/progress.ts';
import { demoSeedOptions } from './seed/seed-options.ts';
import { seed } from './seed/seeder.ts';
import { startFoldLoop, type FoldLoop } from './stats/fold-loop.ts';
import { foldRollups } from './stats/stats-maintenance.repository.ts';

/**
 * `make start`: database (embedded unless DATABASE_URL), migrations, a demo
 * data set when the database is empty, then the HTTP service. Ctrl-C stops
 * everything in reverse order.
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
let pool: ReturnType<typeof createPool> | undefined;

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, 'shutting down');
  // A second Ctrl-C, or a hang, ends it regardless.
  setTimeout(() => process.exit(1), 20_000).unref();
  await app?.close();
  await foldLoop?.stop();
  await pool?.end();
  await database?.close();
  log.info('stopped');
}

let shuttingDown = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (shuttingDown) process.exit(130);
    shuttingDown = true;
    shutdown(signal).then(() => process.exit(0), (error: unknown) => {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  });
}

try {
  database = await openDatabase(config, log);
  await migrate(database.url, 'up', log);
  pool = createPool(database.url, log);
  const db = createDb(pool);

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
  app = await build(config, { pool, db, log });
  const address = await app.listen({ host: config.http.host, port: config.http.port });
  process.stdout.write(`\nTanktop is running at ${address}  (health: ${address}/healthz; Ctrl-C stops it)\n\n`);
} catch (error) {
  if (error instanceof DatabaseUnavailableError || error instanceof ConfigError) {
    process.stderr.write(`tanktop: ${error.message}\n`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    process.stderr.write(`tanktop: port ${config.http.port} is already in use; set PORT to a free one\n`);
  } else {
    log.fatal({ err: error }, 'start-up failed');
  }
  await foldLoop?.stop();
  await pool?.end();
  await database?.close();
  process.exit(3);
}
