/** The pages of the targets, served on the full-schema side and loaded by autocannon as bench:pages does. */
import { loadConfig } from '../../src/config.ts';
import { createDb } from '../../src/db/kysely.ts';
import { createPool } from '../../src/db/pool.ts';
import { build } from '../../src/http/app.ts';
import { type Logger } from '../../src/logger.ts';
import { DIMENSIONS, type Side } from '../ingest/model.ts';
import { note } from '../ingest/progress.ts';
import { addBenchUser, type Latency, load, signIn } from '../shared/http-load.ts';

const TO = DIMENSIONS.endDay;
// The calendar month of the span's last day: a standing range, whose rankings
// read the period rows. (The 30 days ending on the span's last day are not the
// standing "last 30 days", which end today: a run on 2026-12-07 measured those
// pages reading the range, the overview 1.4 s at 1M sales and 9.3 s at 10M.)
const FROM = '2025-12-01';
const range = `from=${FROM}&to=${TO}`;
export const PAGES: Record<string, string> = {
  agents: `/stats/agents?${range}`,
  customers: `/stats/customers?${range}&per_page=50`,
  overview: `/?${range}`,
  'customers by total': `/stats/customers?${range}&sort=total&dir=desc&per_page=50`,
  'customers pivot': `/stats/customers?${range}&view=pivot`,
};

export async function measurePages(rollups: Side, log: Logger, options: { seconds: number; connections: number }): Promise<Record<string, Latency>> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', LOGIN_ATTEMPTS_PER_MINUTE: '10000' });
  await addBenchUser(rollups.pool);
  // A pool of the app's own, as large as bench:pages gives it.
  const pool = createPool(rollups.url, log, { max: 12 });
  const db = createDb(pool);
  const app = await build(config, { pool, db, log });
  const serverTimes: number[] = [];
  // Server latency, apart from autocannon's queueing on a small machine.
  app.addHook('onResponse', async (_request, reply) => {
    serverTimes.push(reply.elapsedTime);
  });
  const results: Record<string, Latency> = {};
  try {
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const cookie = await signIn(base);
    for (const [label, path] of Object.entries(PAGES)) {
      results[label] = await load(base + path, { cookie }, { ...options, serverTimes, say: note });
      await drain(pool);
    }
  } finally {
    await app.close();
    await db.destroy();
  }
  return results;
}

/**
 * Waits until the app's pool is idle. autocannon ends its load by closing its
 * sockets, but the server goes on with the requests it had taken: a slow page
 * (the pivot at 1M sales) leaves seconds of queries behind, which would run
 * into the next page's load, or fail once the pool is closed.
 */
async function drain(pool: { totalCount: number; idleCount: number; waitingCount: number }): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((pool.totalCount > pool.idleCount || pool.waitingCount > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
