/**
 * bench:scale's two databases, kept between runs: tanktop_bench_scale (the
 * full schema) and tanktop_bench_scale_baseline (the same without the rollup
 * triggers, as bench:ingest's baseline), with the same dimension rows, and a
 * table recording what the load has done (bench_scale_state).
 */
import { migrate } from '../../src/db/migrate.ts';
import { createDatabaseIfMissing, urlWithDatabase } from '../../src/db/open-database.ts';
import { createPool } from '../../src/db/pool.ts';
import { type Logger } from '../../src/logger.ts';
import { adminQuery, checkTriggers, seedDimensions, loadEntities, dimensionDigest } from '../ingest/databases.ts';
import { type Entities, ROLLUP_TRIGGERS, type Side } from '../ingest/model.ts';

export const SCALE_DATABASES = { baseline: 'tanktop_bench_scale_baseline', rollups: 'tanktop_bench_scale' } as const;

/** Creates what is missing, migrates, strips the baseline of the rollup triggers; both sides or none. */
export async function openScaleSides(adminUrl: string, log: Logger): Promise<Side[]> {
  const sides: Side[] = [];
  try {
    for (const name of ['baseline', 'rollups'] as const) {
      await createDatabaseIfMissing(adminUrl, SCALE_DATABASES[name]);
      const url = urlWithDatabase(adminUrl, SCALE_DATABASES[name]);
      await migrate(url, 'up', log);
      const side: Side = { name, url, pool: createPool(url, log, { max: 4 }), rollups: name === 'rollups' };
      sides.push(side);
      if (!side.rollups) {
        for (const trigger of ROLLUP_TRIGGERS) await side.pool.query(`drop trigger if exists ${trigger} on sales`);
      }
      // One row: the sales the load has committed, the highest id among them
      // (anything above is a measurement's and is deleted), and whether the
      // rollups were rebuilt after the load (the load skips the triggers).
      await side.pool.query(`create table if not exists bench_scale_state (
        one boolean primary key default true check (one), sales bigint not null, max_id bigint not null, rollups_exact boolean not null)`);
      await side.pool.query(`insert into bench_scale_state (sales, max_id, rollups_exact) values (0, 0, true) on conflict do nothing`);
      // The foreign keys and indexes the load dropped, to add back after it, even after an interruption.
      await side.pool.query(`create table if not exists bench_scale_dropped (name text primary key, drop_order serial, definition text not null)`);
    }
    await checkTriggers(sides[0]!, sides[1]!);
    return sides;
  } catch (error) {
    await Promise.all(sides.map((side) => side.pool.end()));
    throw error;
  }
}

/** The dimension rows, seeded once (one transaction each, so either there or not). */
export async function ensureDimensions(sides: Side[]): Promise<Entities> {
  const empty: Side[] = [];
  for (const side of sides) {
    const { rows } = await side.pool.query<{ n: string }>('select count(*) as n from sales_agents');
    if (Number(rows[0]!.n) === 0) empty.push(side);
  }
  if (empty.length > 0) await seedDimensions(empty);
  const digests = await Promise.all(sides.map((side) => dimensionDigest(side.pool)));
  if (new Set(digests).size !== 1) throw new Error('the dimension tables differ between the two databases: run once with --drop');
  return loadEntities(sides[0]!.pool);
}

export async function dropScaleDatabases(adminUrl: string): Promise<void> {
  for (const name of Object.values(SCALE_DATABASES)) await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
}
