/** The disk the data takes: sales with its partitions and indexes, the folded rollups, the pending deltas. */
import { type Side } from '../ingest/model.ts';

export interface Disk { salesBytes: number; foldedBytes: number; pendingBytes: number; sales: number }

export async function diskUse(rollups: Side): Promise<Disk> {
  // pg_partition_tree lists nothing for a table that is not partitioned (PG 15): then its own size.
  const size = (table: string) => `coalesce((select sum(pg_total_relation_size(relid)) from pg_partition_tree('${table}')), pg_total_relation_size('${table}'))`;
  const { rows } = await rollups.pool.query<Record<'sales_bytes' | 'folded' | 'pending' | 'sales', string>>(`
    select ${size('sales')} as sales_bytes, ${size('daily_sales_stats_folded')} as folded,
           ${size('daily_sales_stats_pending')} as pending, (select sales from bench_scale_state) as sales`);
  const row = rows[0]!;
  return { salesBytes: Number(row.sales_bytes), foldedBytes: Number(row.folded), pendingBytes: Number(row.pending), sales: Number(row.sales) };
}
