import { sql, type RawBuilder } from 'kysely';
import { prepared, type Db } from '../db/kysely.ts';
import type { DimensionInfo } from './dimensions.ts';
import type { EntityTotals, RangeFilter, StatsRow } from './stats.repository.ts';
import type { SortDirection, SortKey } from './stats-query.ts';
import type { StandingRange } from './standing-ranges.ts';

/**
 * Entity rankings of a standing range read from period_sales_stats_folded
 * (sql/065): O(offset + limit + pending entities of the range), whatever the
 * number of sales.
 *
 * The period rows hold the folded sales; the range's pending deltas (a few
 * rows: the fold runs every second) are added exactly. An entity with a
 * pending delta ("adjusted") may move anywhere in the order, or drop out;
 * every other entity's value is its period row's. So the page is among the
 * adjusted entities plus the first offset + limit period rows that are not
 * adjusted, read in index order: re-sort those, cut the page.
 *
 * Returns undefined when the range is the 30-day window but the window rows
 * cover other days (the fold step has not slid them yet): the caller reads
 * the range instead.
 */
export async function periodEntityTotals(
  db: Db, filter: RangeFilter, standing: StandingRange,
  sort: Exclude<SortKey, 'day'>, dir: SortDirection, limit: number, offset: number,
): Promise<EntityTotals[] | undefined> {
  const dimension = filter.dimension.dimension;
  const order = entityOrder(sort, dir);
  const { rows } = await sql<EntityTotals & { covered: boolean }>`${prepared}
    with covered as materialized (
      select ${standing.period}::text <> 'window' or last_day = ${filter.to}::date as covered
      from period_sales_stats_window
    ), pending as materialized (
      select entity_id, sum(sales_count) as sales_count, sum(total_price) as total_price
      from daily_sales_stats_pending
      where dimension = ${dimension} and day between ${filter.from}::date and ${filter.to}::date
      group by entity_id
    ), adjusted as (
      select p.entity_id, n.name,
             coalesce(f.sales_count, 0) + p.sales_count as sales_count,
             coalesce(f.total_price, 0) + p.total_price as total_price
      from pending as p
      join ${names(filter.dimension)} as n on n.id = p.entity_id
      left join period_sales_stats_folded as f
        on f.dimension = ${dimension} and f.entity_id = p.entity_id
       and f.period = ${standing.period}::text and f.period_start = ${standing.periodStart}::date
    ), others as (
      select f.entity_id, f.name, f.sales_count, f.total_price
      from period_sales_stats_folded as f
      where f.dimension = ${dimension} and f.period = ${standing.period}::text and f.period_start = ${standing.periodStart}::date
        and not exists (select from pending as p where p.entity_id = f.entity_id)
      order by ${order}
      limit ${offset + limit}::bigint
    ), page as (
      select entity_id, name, sales_count, total_price from adjusted where sales_count <> 0
      union all
      select entity_id, name, sales_count, total_price from others
      order by ${order}
      limit ${limit} offset ${offset}
    )
    select c.covered, page.entity_id, page.name, page.sales_count, page.total_price
    from covered as c left join page on c.covered
    order by ${order}`.execute(db);
  if (!rows[0]?.covered) return undefined;
  return rows.filter((row) => row.entity_id !== null)
    .map(({ entity_id, name, sales_count, total_price }) => ({ entity_id, name, sales_count, total_price }));
}

/** The pages' entity order: ties broken by entity id in the sort's direction (as entityTotals does). */
function entityOrder(sort: Exclude<SortKey, 'day'>, dir: SortDirection): RawBuilder<unknown> {
  const d = dir === 'asc' ? sql`asc` : sql`desc`;
  switch (sort) {
    case 'name': return sql`name ${d}, entity_id ${d}`;
    case 'count': return sql`sales_count ${d}, entity_id ${d}`;
    case 'total': return sql`total_price ${d}, entity_id ${d}`;
  }
}

function names(dimension: DimensionInfo): RawBuilder<unknown> {
  // dimension.table comes from the constant list in dimensions.ts, never from a request.
  return sql.table(dimension.table);
}

/**
 * A table page ((day, entity) rows) of a standing range sorted by name, then
 * entity id, then day, all in the sort's direction. Every entity with a period
 * row and no pending delta in the range has at least one row in it, so the
 * page's rows belong to the first offset + limit such entities in name order
 * or to the adjusted ones: their days (at most offset + limit each) are read
 * through the per-entity index (offset + limit + pending keys of each), the
 * deltas added, the page cut.
 * O((offset + limit + pending entities) x (offset + limit)) at worst.
 */
export async function periodRowsByName(
  db: Db, filter: RangeFilter, standing: StandingRange, dir: SortDirection, limit: number, offset: number,
): Promise<StatsRow[] | undefined> {
  const dimension = filter.dimension.dimension;
  const d = dir === 'asc' ? sql`asc` : sql`desc`;
  const { rows } = await sql<StatsRow & { covered: boolean }>`${prepared}
    with covered as materialized (
      select ${standing.period}::text <> 'window' or last_day = ${filter.to}::date as covered
      from period_sales_stats_window
    ), pending as materialized (
      select day, entity_id, sum(sales_count) as sales_count, sum(total_price) as total_price
      from daily_sales_stats_pending
      where dimension = ${dimension} and day between ${filter.from}::date and ${filter.to}::date
      group by day, entity_id
    ), entities as materialized (
      (select f.entity_id, f.name
       from period_sales_stats_folded as f
       where f.dimension = ${dimension} and f.period = ${standing.period}::text and f.period_start = ${standing.periodStart}::date
         and not exists (select from pending as p where p.entity_id = f.entity_id)
       order by f.name ${d}, f.entity_id ${d}
       limit ${offset + limit}::bigint)
      union all
      select n.id, n.name from ${names(filter.dimension)} as n
      where n.id in (select entity_id from pending)
    ), candidates as (
      select e.entity_id, e.name, r.day, r.sales_count, r.total_price
      from entities as e
      cross join lateral (
        select k.day, sum(k.sales_count) as sales_count, sum(k.total_price) as total_price
        from (
          (select day, sales_count, total_price from daily_sales_stats_folded as f
           where f.dimension = ${dimension} and f.entity_id = e.entity_id
             and f.day between ${filter.from}::date and ${filter.to}::date
           order by f.day ${d}
           limit ${offset + limit}::bigint + (select count(*) from pending))
          union all
          select p.day, p.sales_count, p.total_price from pending as p where p.entity_id = e.entity_id
        ) as k
        group by k.day
        having sum(k.sales_count) <> 0
      ) as r
    ), page as (
      select day, entity_id, name, sales_count, total_price from candidates
      order by name ${d}, entity_id ${d}, day ${d}
      limit ${limit} offset ${offset}
    )
    select c.covered, page.day, page.entity_id, page.name, page.sales_count, page.total_price
    from covered as c left join page on c.covered
    order by page.name ${d}, page.entity_id ${d}, page.day ${d}`.execute(db);
  if (!rows[0]?.covered) return undefined;
  return rows.filter((row) => row.entity_id !== null)
    .map(({ day, entity_id, name, sales_count, total_price }) => ({ day, entity_id, name, sales_count, total_price }));
}
