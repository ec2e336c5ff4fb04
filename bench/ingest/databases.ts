/** The two databases: created, migrated, the baseline stripped of the rollup triggers, the same dimension rows in both. */
import pg from 'pg';
import { migrate } from '../../src/db/migrate.ts';
import { urlWithDatabase } from '../../src/db/open-database.ts';
import { withClient as withOneOffClient } from '../../src/db/one-off-client.ts';
import { createPool } from '../../src/db/pool.ts';
import { type Logger } from '../../src/logger.ts';
import { progressPrinter } from '../../src/seed/progress.ts';
import { seed } from '../../src/seed/seeder.ts';
import { DATABASES, DIMENSIONS, type Entities, ROLLUP_TRIGGERS, type Side } from './model.ts';
import { int } from './progress.ts';

export async function adminQuery(adminUrl: string, text: string): Promise<void> {
  await withOneOffClient(adminUrl, (client) => client.query(text));
}

export async function dropDatabases(adminUrl: string): Promise<void> {
  for (const name of Object.values(DATABASES)) await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
}

/**
 * Creates both databases afresh (a kept pair from an earlier --keep run is
 * dropped first), migrates them, and removes the rollup triggers from the
 * baseline. Everything else, _100_set_updated_at included, stays in both.
 */
export async function createSides(adminUrl: string, log: Logger): Promise<Side[]> {
  await dropDatabases(adminUrl);
  const sides: Side[] = [];
  try {
    for (const name of ['baseline', 'rollups'] as const) {
      await adminQuery(adminUrl, `create database ${DATABASES[name]}`);
      const url = urlWithDatabase(adminUrl, DATABASES[name]);
      await migrate(url, 'up', log);
      const side: Side = { name, url, pool: createPool(url, log, { max: 4 }), rollups: name === 'rollups' };
      sides.push(side);
      if (!side.rollups) {
        for (const trigger of ROLLUP_TRIGGERS) await side.pool.query(`drop trigger ${trigger} on sales`);
      }
    }
    await checkTriggers(sides[0]!, sides[1]!);
    return sides;
  } catch (error) {
    await Promise.all(sides.map((side) => side.pool.end())); // the caller never gets them to close
    throw error;
  }
}

/**
 * The baseline must differ from the real schema by the rollup triggers and
 * nothing else: every other trigger on sales (_100_set_updated_at, and any
 * added later) stays in both.
 */
export async function checkTriggers(baseline: Side, rollups: Side): Promise<void> {
  const [inBaseline, inRollups] = await Promise.all([salesTriggers(baseline.pool), salesTriggers(rollups.pool)]);
  const missing = ROLLUP_TRIGGERS.filter((trigger) => !inRollups.includes(trigger));
  const others = inRollups.filter((trigger) => !ROLLUP_TRIGGERS.includes(trigger));
  if (missing.length > 0 || !others.includes('_100_set_updated_at') || others.join() !== inBaseline.join()) {
    throw new Error(`unexpected triggers on sales: baseline has ${inBaseline.join(', ') || 'none'}; rollups has ${inRollups.join(', ')}`);
  }
}

export async function salesTriggers(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ tgname: string }>(
    `select tgname from pg_trigger where tgrelid = 'sales'::regclass and not tgisinternal order by tgname`,
  );
  return rows.map((row) => row.tgname);
}

/** The same agents, products and customers in both, by the seeder (deterministic for its seed). */
export async function seedDimensions(sides: Side[]): Promise<Entities> {
  for (const side of sides) {
    const progress = progressPrinter();
    await seed(side.pool, DIMENSIONS, ({ table, done, total }) => progress.update(`${side.name} ${table}`, done, total));
    progress.done(`${side.name}: ${int(DIMENSIONS.agents)} agents, ${int(DIMENSIONS.products)} products, ${int(DIMENSIONS.customers)} customers`);
  }
  const digests = await Promise.all(sides.map((side) => dimensionDigest(side.pool)));
  if (new Set(digests).size !== 1) throw new Error('the dimension tables differ between the two databases');
  return loadEntities(sides[0]!.pool);
}

/** One digest of every dimension row with its id: equal digests mean the same rows under the same ids. */
export async function dimensionDigest(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ digest: string }>(`
    select md5(concat_ws(';',
      (select string_agg(concat_ws('|', id, name), ',' order by id) from sales_agents),
      (select string_agg(concat_ws('|', id, name, price), ',' order by id) from products),
      (select string_agg(concat_ws('|', id, name, email, telephone), ',' order by id) from customers))) as digest`);
  return rows[0]!.digest;
}

export async function loadEntities(pool: pg.Pool): Promise<Entities> {
  const ids = async (table: string) => (await pool.query<{ id: string }>(`select id from ${table} order by id`)).rows.map((r) => r.id);
  const { rows: products } = await pool.query<{ id: string; price: string }>('select id, price from products order by id');
  const entities = {
    agentIds: await ids('sales_agents'),
    productIds: products.map((p) => p.id),
    productPrices: products.map((p) => p.price),
    customerIds: await ids('customers'),
  };
  // Case (e) moves each sale to the next agent by arithmetic on the id.
  const agents = entities.agentIds.map(Number);
  if (agents.at(-1)! - agents[0]! + 1 !== agents.length) throw new Error('agent ids are not contiguous');
  return entities;
}
