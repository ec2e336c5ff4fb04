import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';
import { createDb, type Db } from '../../src/db/kysely.ts';
import { withClient } from '../../src/db/one-off-client.ts';
import { urlWithDatabase } from '../../src/db/open-database.ts';
import { createPool } from '../../src/db/pool.ts';
import { createLogger } from '../../src/logger.ts';

export const testLog = createLogger(process.env.LOG_LEVEL ?? 'silent', 'test');

export interface TestDatabase {
  name: string;
  url: string;
  adminUrl: string;
  pool: pg.Pool;
  db: Db;
}

function settings() {
  const adminUrl = process.env.TANKTOP_TEST_ADMIN_URL;
  const template = process.env.TANKTOP_TEST_TEMPLATE;
  if (!adminUrl || !template) {
    throw new Error('run the tests through `npm test` (test/run.ts), which prepares the database');
  }
  return { adminUrl, template };
}

/**
 * A database of this test's own, cloned from the migrated template, dropped
 * at teardown (with every connection still open to it).
 */
export async function freshDatabase(t: Test, options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const { adminUrl, template } = settings();
  const name = `tanktop_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name} template ${template}`);
  const url = urlWithDatabase(adminUrl, name);
  const pool = createPool(url, testLog, { max: options.poolSize ?? 4 });
  const db = createDb(pool);
  t.teardown(async () => {
    await db.destroy();
    if (!pool.ended) await pool.end();
    await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
  });
  return { name, url, adminUrl, pool, db };
}

/** An empty database (not migrated), for the migration tests. */
export async function emptyDatabase(t: Test): Promise<{ name: string; url: string }> {
  const { adminUrl } = settings();
  const name = `tanktop_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `create database ${name}`);
  t.teardown(() => adminQuery(adminUrl, `drop database if exists ${name} with (force)`));
  return { name, url: urlWithDatabase(adminUrl, name) };
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  await withClient(adminUrl, (client) => client.query(text));
}
