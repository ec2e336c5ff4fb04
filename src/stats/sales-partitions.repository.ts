import { sql } from 'kysely';
import type { Db } from '../db/kysely.ts';

/** One partition of sales, as `stats partitions` lists it. */
export interface SalesPartition {
  name: string;
  /** The range's first instant (ISO, UTC), or null for the default partition. */
  from: string | null;
  /** The range's end (exclusive), or null for the default partition. */
  to: string | null;
  /** The planner's row estimate (pg_class.reltuples): -1 until the partition is first vacuumed or analysed. */
  estimatedRows: number;
}

/** Creates the current UTC month's partition and the next monthsAhead where missing (sql/045); returns the names created. */
export async function ensureSalesPartitions(db: Db, monthsAhead: number): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select ensure_sales_partitions(${monthsAhead}::integer) as name`.execute(db);
  return rows.map((row) => row.name);
}

/** The partitions of sales in range order, the default partition last. */
export async function listSalesPartitions(db: Db): Promise<SalesPartition[]> {
  const { rows } = await sql<{ name: string; from: string | null; to: string | null; estimated_rows: string }>`
    select c.relname as name,
           to_char(b.m[1]::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "from",
           to_char(b.m[2]::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as "to",
           c.reltuples::bigint::text as estimated_rows
    from pg_inherits as i
    join pg_class as c on c.oid = i.inhrelid
    cross join lateral (select regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') as m) as b
    where i.inhparent = 'sales'::regclass
    order by b.m[1]::timestamptz nulls last`.execute(db);
  return rows.map((row) => ({ name: row.name, from: row.from, to: row.to, estimatedRows: Number(row.estimated_rows) }));
}

/** A month archive_sales_before() archived. */
export interface ArchivedMonth {
  month: string;
  sales_count: string;
  total_price: string;
  archived_table: string | null;
}

/** Archives the month partitions before `month` (YYYY-MM-01), keeping their stats (sql/075); returns them. */
export async function archiveSalesBefore(db: Db, month: string, drop: boolean): Promise<ArchivedMonth[]> {
  const { rows } = await sql<ArchivedMonth>`
    select month::text, sales_count::text, total_price::text, archived_table
    from archive_sales_before(${month}::date, ${drop})`.execute(db);
  return rows;
}

/**
 * The oldest month (YYYY-MM-01) that has a partition or a sale in the default
 * partition, or undefined when sales has neither: where archiving starts.
 */
export async function oldestSalesMonth(db: Db): Promise<string | undefined> {
  const { rows } = await sql<{ month: string | null }>`
    select to_char(least(
             (select min(b.lower_bound) from (
                select (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\)'))[1]::timestamptz as lower_bound
                from pg_inherits as i join pg_class as c on c.oid = i.inhrelid
                where i.inhparent = 'sales'::regclass) as b),
             (select min(created_at) from sales_default)) at time zone 'UTC', 'YYYY-MM') || '-01' as month`.execute(db);
  return rows[0]?.month ?? undefined;
}
