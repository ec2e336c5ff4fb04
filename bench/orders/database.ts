/** The benchmark's own database: dropped, created, migrated, and given a small catalogue, every run. */
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { urlWithDatabase } from '../../src/db/open-database.ts';
import { withClient } from '../../src/db/one-off-client.ts';
import type { Logger } from '../../src/logger.ts';
import { seed } from '../../src/seed/seeder.ts';
import { CATALOGUE, DATABASE_NAME } from './model.ts';

export interface Catalogue {
  productIds: string[];
  customerIds: string[];
  referralCodes: string[];
}

/** Another run of the benchmark holds the server's benchmark database. */
export class BenchBusyError extends Error {}

/** pg_try_advisory_lock's key for "a bench:orders run owns tanktop_bench_orders" (any fixed number; this one spells tt-orders). */
const RUN_LOCK_KEY = 7_474_000_111;

/**
 * Claims the benchmark database for this run: a session-level advisory lock
 * on the server, held by a connection of its own until release() (or until
 * the process dies, when the server drops it). A second run at once would
 * drop the first one's database under it; it is refused with a sentence.
 */
export async function claimBenchDatabase(adminUrl: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'tanktop-bench-orders-lock' });
  client.on('error', () => {});
  await client.connect();
  const { rows } = await client.query<{ claimed: boolean }>('select pg_try_advisory_lock($1) as claimed', [RUN_LOCK_KEY]);
  if (!rows[0]?.claimed) {
    await client.end();
    throw new BenchBusyError(`another bench:orders run is using ${DATABASE_NAME} on this server: wait for it to finish (two runs at once would drop each other's database)`);
  }
  return { release: () => client.end() };
}

/** Drops and creates the database (a run's leftovers go first, with their connections), then migrates it. */
export async function recreateDatabase(adminUrl: string, log: Logger): Promise<string> {
  await withClient(adminUrl, async (client) => {
    await client.query(`drop database if exists ${DATABASE_NAME} with (force)`);
    await client.query(`create database ${DATABASE_NAME}`);
  });
  const url = urlWithDatabase(adminUrl, DATABASE_NAME);
  await migrate(url, 'up', log);
  return url;
}

/**
 * Agents (each with a referral code), products and customers by the seeder
 * (deterministic, realistic names and prices), no sales: every sale in the
 * database afterwards comes from an order the benchmark paid.
 */
export async function loadCatalogue(pool: pg.Pool): Promise<Catalogue> {
  await seed(pool, {
    sales: 0, agents: CATALOGUE.agents, products: CATALOGUE.products, customers: CATALOGUE.customers,
    days: 1, seed: CATALOGUE.seed, endDay: '2025-12-31', append: false,
  }, () => {});
  await pool.query(`update sales_agents set referral_code = 'AGENT-' || id`);
  await pool.query('analyze');
  const ids = async (query: string) => (await pool.query<{ v: string }>(query)).rows.map((row) => row.v);
  return {
    productIds: await ids('select id::text as v from products order by id'),
    customerIds: await ids('select id::text as v from customers order by id'),
    referralCodes: await ids('select referral_code as v from sales_agents order by id'),
  };
}
