import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type pg from 'pg';
import type { Test } from 'tap';
import { hashPassword } from '../../src/auth/password.ts';
import { insertUser } from '../../src/auth/users.repository.ts';
import { loadConfig } from '../../src/config.ts';
import { createDb, type Db } from '../../src/db/kysely.ts';
import { createPool } from '../../src/db/pool.ts';
import { createReadRouting, type ReadRouting } from '../../src/db/read-replicas.ts';
import { build } from '../../src/http/app.ts';
import { testLog } from '../helpers/database.ts';
import type { ReplicaPair } from '../helpers/replica.ts';
import { cookieHeader, formToken, PASSWORD } from '../stats-pages/app-harness.ts';

export interface ReplicaHarness {
  app: FastifyInstance;
  /** The primary's application database (the app's own pool). */
  pool: pg.Pool;
  db: Db;
  reads: ReadRouting;
  cookie: string;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  login(name: string, password: string): Promise<{ response: LightMyRequestResponse; cookie: string }>;
}

/**
 * The app on the pair's primary with DATABASE_READ_URL set to its replica
 * (plus `extraReplicaUrls`), a user "ann" signed in. The checks' timer is
 * slow on purpose: tests call reads.check() when they want the routing to
 * know, so what a request sees never depends on timing.
 */
export async function replicaHarness(t: Test, pair: ReplicaPair, env: Record<string, string> = {}, extraReplicaUrls: string[] = []): Promise<ReplicaHarness> {
  const config = loadConfig({
    LOGIN_ATTEMPTS_PER_MINUTE: '1000', DATABASE_URL: pair.primaryUrl,
    DATABASE_READ_URL: [pair.replicaUrl, ...extraReplicaUrls].join(','), DATABASE_READ_CHECK_INTERVAL_MS: '60000', ...env,
  });
  const pool = createPool(pair.primaryUrl, testLog, { max: 4 });
  const db = createDb(pool);
  const reads = createReadRouting({ primary: { pool, db }, config: config.readReplicas, pooling: 'session', log: testLog, poolSize: 4 });
  const app = await build(config, { pool, db, log: testLog, reads });
  t.teardown(async () => {
    await app.close();
    await reads.close();
    await db.destroy();
  });
  if (!(await pool.query(`select from users where name = 'ann'`)).rowCount) await insertUser(pool, 'ann', await hashPassword(PASSWORD));
  await reads.check();

  async function login(name: string, password: string) {
    const page = await app.inject({ url: '/login' });
    const withCsrf = cookieHeader(page);
    const body = new URLSearchParams({ _csrf: formToken(page.body), name, password, next: '/' }).toString();
    const response = await app.inject({ method: 'POST', url: '/login', payload: body, headers: { cookie: withCsrf, 'content-type': 'application/x-www-form-urlencoded' } });
    return { response, cookie: cookieHeader(response, withCsrf) };
  }
  const { cookie } = await login('ann', PASSWORD);
  return { app, pool, db, reads, cookie, login, get: (url, headers = {}) => app.inject({ url, headers: { cookie, ...headers } }) };
}
