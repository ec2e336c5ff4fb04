import type pg from 'pg';

export interface RollupRow {
  day: string;
  dimension: string;
  entity_id: string;
  sales_count: string;
  total_price: string;
}

/** The rollups as readers see them, in a stable order, money normalised to two decimals. */
export async function actualRollups(db: pg.Pool | pg.PoolClient): Promise<RollupRow[]> {
  const { rows } = await db.query<RollupRow>(
    `select day::text, dimension, entity_id::text, sales_count::text, to_char(total_price, 'FM999999999990.00') as total_price
     from daily_sales_stats order by day, dimension, entity_id`,
  );
  return rows;
}

/**
 * The test's own GROUP BY over sales, written independently of the SQL under
 * test (no sale_day(), no grouping sets): the day comes from AT TIME ZONE with
 * the zone read from stats_settings.
 */
export async function expectedRollups(db: pg.Pool | pg.PoolClient): Promise<RollupRow[]> {
  const { rows } = await db.query<RollupRow>(`
    with zone as (select time_zone from stats_settings),
    days as (
      select (s.created_at at time zone zone.time_zone)::date as day, s.*
      from sales as s cross join zone
    )
    select day::text, dimension, entity_id::text, count(*)::text as sales_count,
           to_char(sum(price), 'FM999999999990.00') as total_price
    from (
      select day, 'agent' as dimension, sales_agent_id as entity_id, price from days
      union all select day, 'product', product_id, price from days
      union all select day, 'customer', customer_id, price from days
    ) as per_dimension
    group by day, dimension, entity_id
    order by day, dimension, entity_id`);
  return rows;
}

export async function verifyDifferences(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ n: string }>('select count(*) as n from verify_daily_sales_stats()');
  return Number(rows[0]?.n);
}

export async function pendingDeltas(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ n: string }>('select count(*) as n from daily_sales_stats_pending');
  return Number(rows[0]?.n);
}

export async function fold(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ n: string }>('select fold_daily_sales_stats() as n');
  return Number(rows[0]?.n);
}
