import { sql } from 'kysely';
import type { Db } from '../db/kysely.ts';

/** A rollup row that differs from a fresh GROUP BY over sales. */
export interface RollupDifference {
  day: string;
  dimension: string;
  entity_id: string;
  expected_count: string | null;
  expected_total: string | null;
  actual_count: string | null;
  actual_total: string | null;
}

/** The differences for the days from..to (inclusive, ISO dates; undefined: unbounded), archived days left out. */
export async function verifyRollups(db: Db, from?: string, to?: string): Promise<RollupDifference[]> {
  const { rows } = await sql<RollupDifference>`
    select * from verify_daily_sales_stats(${from ?? null}::date, ${to ?? null}::date)`.execute(db);
  return rows;
}

/** Recounts the days from..to (inclusive, ISO dates; undefined: unbounded). Returns rollup rows written. */
export async function rebuildRollups(db: Db, from?: string, to?: string): Promise<number> {
  const { rows } = await sql<{ rebuilt: string }>`
    select rebuild_daily_sales_stats(${from ?? null}::date, ${to ?? null}::date) as rebuilt`.execute(db);
  return Number(rows[0]?.rebuilt ?? 0);
}

/** Folds the pending deltas; returns how many it folded. */
export async function foldRollups(db: Db): Promise<number> {
  const { rows } = await sql<{ folded: string }>`select fold_daily_sales_stats() as folded`.execute(db);
  return Number(rows[0]?.folded ?? 0);
}

export async function statsTimeZone(db: Db): Promise<string> {
  const { rows } = await sql<{ zone: string }>`select stats_time_zone() as zone`.execute(db);
  return rows[0]?.zone ?? 'UTC';
}

/** Sets the business time zone and rebuilds the rollups, in one transaction. */
export async function setStatsTimeZone(db: Db, zone: string): Promise<void> {
  await sql`select set_stats_time_zone(${zone})`.execute(db);
}
