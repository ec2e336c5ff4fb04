/** Constants and shapes shared by the ingest benchmark's parts. */
import pg from 'pg';
import { seed, type SeedOptions } from '../../src/seed/seeder.ts';

export const DATABASES = { baseline: 'tanktop_bench_baseline', rollups: 'tanktop_bench_rollups' } as const;
export const ROLLUP_TRIGGERS = ['_500_record_stats_on_insert', '_500_record_stats_on_update', '_500_record_stats_on_delete', '_500_mark_truncate', '_500_clear_stats_on_truncate'];

/** The dimension tables, fixed whatever --scale: the cost of the rollups depends on how many keys there are. */
export const DIMENSIONS: SeedOptions = {
  sales: 0, agents: 50, products: 2_000, customers: 100_000, days: 365, seed: 42,
  // A fixed last day, not today: the same data on every run.
  endDay: '2025-12-31', append: false,
};
export const FULL = { copyRows: 1_000_000, insertSelectBatches: 10, insertSelectRows: 100_000, updateRows: 100_000 };
export const CONCURRENCY = 8;
export const ROWS_PER_MULTI_ROW_INSERT = 100;
export const FOLD_INTERVAL_MS = 1_000;
export const TARGETS = { verifySeconds: 10, rebuildSeconds: 15 };
/** The targets for rollups/baseline, per case (higher is better). */
export const RATIO_TARGETS: Record<string, number> = { a: 0.8, b: 0.75, c: 0.7, d: 0.65, c2: 0.6, e: 0.5 };
export const SALE_COLUMNS = ['customer_id', 'product_id', 'sales_agent_id', 'price', 'created_at', 'updated_at'];
export const DAY_MS = 86_400_000;
/** Upper bounds for loops that normally end by time: no run of this benchmark lasts hours. */
export const MAX_LOOP_MS = 4 * 3_600_000;
export const MAX_STATEMENTS_PER_WORKER = 100_000_000;

export class UsageError extends Error {}

export interface BenchOptions {
  scale: number;
  seconds: number;
  repeat: number;
  keep: boolean;
}

export type SideName = keyof typeof DATABASES;

/** One of the two databases under test. */
export interface Side {
  readonly name: SideName;
  readonly url: string;
  readonly pool: pg.Pool;
  /** The rollup triggers are installed, so the background fold runs during its cases. */
  readonly rollups: boolean;
}

/** The dimension rows, read back from the database: the same ids in both. */
export interface Entities {
  agentIds: string[];
  productIds: string[];
  productPrices: string[];
  customerIds: string[];
}

export interface Tally {
  rows: number;
  statements: number;
  deadlocks: number;
  serializationFailures: number;
}

export interface FoldCall {
  start: number;
  end: number;
  folded: number;
}

export interface Run extends Tally {
  ms: number;
  /**
   * Rollups only: the folding still due when the case's last statement
   * returned (the tail of a background fold in flight, plus a final fold).
   */
  postFoldMs: number;
  /** Rollups only: the background folds during the case. */
  folds: FoldCall[];
}

export interface CaseResult {
  key: string;
  title: string;
  /** Bulk cases run once and also get the ratio including the fold after them. */
  bulk: boolean;
  runs: Record<SideName, Run[]>;
}

export interface Maintenance {
  sales: number;
  foldAfterCopyMs: number;
  verifyMs: number;
  verifyDifferences: number;
  rebuildMs: number;
  rebuiltRows: number;
}
