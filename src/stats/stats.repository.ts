import { sql, type RawBuilder } from 'kysely';
import { prepared, type Db } from '../db/kysely.ts';
import type { StatsDimension } from '../db/schema.ts';
import type { DimensionInfo } from './dimensions.ts';
import { periodEntityTotals, periodRowsByName } from './period-rankings.repository.ts';
import { standingRange } from './standing-ranges.ts';
import type { SortDirection, SortKey } from './stats-query.ts';

/**
 * Reads for the stats pages: only the rollup tables and the names, never
 * sales. Every query costs about what it returns (see rollupRows), so a page
 * of 30 days stays fast however many sales there are.
 *
 * The queries read daily_sales_stats_folded and daily_sales_stats_pending
 * directly instead of the daily_sales_stats view: the view's GROUP BY hides
 * the folded table's order from the planner, so "the first 50 rows by day"
 * would aggregate the whole range first. The folded table is already one row
 * per key; only the pending deltas (a few pages) need grouping. The result is
 * exactly the view's (tests compare them).
 */

export interface StatsRow {
  day: string;
  entity_id: string;
  name: string;
  sales_count: string;
  total_price: string;
}

export interface Totals {
  sales_count: string;
  total_price: string;
}

export interface RangeFilter {
  dimension: DimensionInfo;
  from: string;
  to: string;
  /** Restrict to these entity ids (the matches of a name search). */
  entityIds?: string[];
}

/** ILIKE pattern for a substring search: the user's % and _ are literal. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}


function names(dimension: DimensionInfo): RawBuilder<unknown> {
  // dimension.table comes from the constant list in dimensions.ts, never from a request.
  return sql.table(dimension.table);
}

function idFilter(column: string, ids: string[] | undefined): RawBuilder<unknown> {
  return ids ? sql`and ${sql.ref(column)} = any(${ids}::bigint[])` : sql``;
}

/**
 * The CTE pair every read starts from: `pending`, the net not-yet-folded
 * deltas of the range (small: the service folds every second), and `rollup`,
 * the folded rows of the range plus those deltas, which equals
 * daily_sales_stats for the range. The folded side is a range of the
 * (dimension, day, entity_id) or (dimension, entity_id, day) index.
 */
function rollupRows(filter: RangeFilter): RawBuilder<unknown> {
  const dimension = filter.dimension.dimension;
  return sql`
    pending as materialized (
      select day, entity_id, sum(sales_count) as sales_count, sum(total_price) as total_price
      from daily_sales_stats_pending
      where dimension = ${dimension} and day between ${filter.from}::date and ${filter.to}::date
        ${idFilter('entity_id', filter.entityIds)}
      group by day, entity_id
    ), rollup as (
      select f.day, f.entity_id,
             f.sales_count + coalesce(p.sales_count, 0) as sales_count,
             f.total_price + coalesce(p.total_price, 0) as total_price
      from daily_sales_stats_folded as f
      left join pending as p on p.day = f.day and p.entity_id = f.entity_id
      where f.dimension = ${dimension} and f.day between ${filter.from}::date and ${filter.to}::date
        ${idFilter('f.entity_id', filter.entityIds)}
      union all
      select p.day, p.entity_id, p.sales_count, p.total_price
      from pending as p
      where not exists (select from daily_sales_stats_folded as f
                        where f.dimension = ${dimension} and f.day = p.day and f.entity_id = p.entity_id)
    )`;
}

/** Ids of the entities whose name contains text (case-insensitive; a trigram index serves it). */
export async function searchEntityIds(db: Db, dimension: DimensionInfo, text: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from ${names(dimension)} where name ilike ${containsPattern(text)}`.execute(db);
  return rows.map((row) => row.id);
}

/**
 * One page of (day, entity) rows ordered by day, then entity id, without a
 * search. Reads only offset + limit + (pending keys) folded rows in index
 * order: a pending delta can add a key anywhere or empty one, so the page is
 * among those candidates (the order is by key, so a key's place never moves).
 * The query is the function stats_rows_by_day (sql/095_stats_page_reads.sql),
 * whose plan the server keeps even behind a transaction pooler; only the join
 * on the names is planned here.
 */
export async function rowsByDay(db: Db, filter: RangeFilter, dir: SortDirection, limit: number, offset: number): Promise<StatsRow[]> {
  const { rows } = await sql<StatsRow>`${prepared}
    select r.day, r.entity_id, n.name, r.sales_count, r.total_price
    from stats_rows_by_day(${filter.dimension.dimension}, ${filter.from}::date, ${filter.to}::date,
                           ${dir === 'desc'}::boolean, ${limit}::bigint, ${offset}::bigint)
           with ordinality as r (day, entity_id, sales_count, total_price, ordinal)
    join ${names(filter.dimension)} as n on n.id = r.entity_id
    order by r.ordinal`.execute(db);
  return rows;
}

/** The ORDER BY of a sort, a total order: ties are broken by day and entity id in the same direction (keyset-safe). */
export function orderBy(sort: SortKey, dir: SortDirection): RawBuilder<unknown> {
  const d = dir === 'asc' ? sql`asc` : sql`desc`;
  switch (sort) {
    case 'day': return sql`day ${d}, entity_id ${d}`;
    case 'name': return sql`name ${d}, entity_id ${d}, day ${d}`;
    case 'count': return sql`sales_count ${d}, day ${d}, entity_id ${d}`;
    case 'total': return sql`total_price ${d}, day ${d}, entity_id ${d}`;
  }
}

/**
 * A page of rows in any order, optionally restricted to search matches. Costs
 * O(rows in the range) (a top-N sort), not O(page): no index orders by count
 * or total. Names are joined after the cut, except when sorting by name.
 */
export function rowsSortedQuery(filter: RangeFilter, sort: SortKey, dir: SortDirection, limit?: number, offset = 0): RawBuilder<StatsRow> {
  // pg returns bigint and numeric as exact strings: no ::text casts, which
  // would also make ORDER BY sort the output columns as text.
  const order = orderBy(sort, dir);
  const cut = limit === undefined ? sql`` : sql`limit ${limit} offset ${offset}`;
  if (sort === 'name') {
    return sql<StatsRow>`${prepared}
      with ${rollupRows(filter)}
      select r.day, r.entity_id, n.name, r.sales_count, r.total_price
      from rollup as r join ${names(filter.dimension)} as n on n.id = r.entity_id
      where r.sales_count <> 0
      order by ${order} ${cut}`;
  }
  return sql<StatsRow>`${prepared}
    with ${rollupRows(filter)}, page as (
      select day, entity_id, sales_count, total_price from rollup
      where sales_count <> 0
      order by ${order} ${cut}
    )
    select page.day, page.entity_id, n.name, page.sales_count, page.total_price
    from page join ${names(filter.dimension)} as n on n.id = page.entity_id
    order by ${order}`;
}

/**
 * A page of rows sorted by name, count or total. By name for a standing range
 * without a search: O(page) from the period rows' name order
 * (period-rankings.repository.ts). Otherwise, a top-N over the range.
 */
export async function rowsSorted(db: Db, filter: RangeFilter, sort: SortKey, dir: SortDirection, limit: number, offset: number): Promise<StatsRow[]> {
  const standing = sort === 'name' && !filter.entityIds ? standingRange(filter.from, filter.to) : undefined;
  const ranked = standing && await periodRowsByName(db, filter, standing, dir, limit, offset);
  if (ranked) return ranked;
  return (await rowsSortedQuery(filter, sort, dir, limit, offset).execute(db)).rows;
}

/**
 * Count and total of the range. Without a search, every dimension has the
 * same totals (each sale has exactly one agent, product and customer), so
 * they are read from the agents' rows: 50 agents x 30 days, not 100,000
 * customers x 30 days. And a sum over keys of (folded + pending) is the sum
 * of the folded rows plus the sum of the deltas: two index range scans, no
 * join of the deltas onto their keys.
 */
export async function rangeTotals(db: Db, filter: RangeFilter): Promise<Totals & { rows: string | null }> {
  if (!filter.entityIds) {
    // stats_range_totals (sql/095_stats_page_reads.sql): plan kept on the server connection.
    const { rows } = await sql<Totals>`${prepared}
      select sales_count, total_price from stats_range_totals(${filter.from}::date, ${filter.to}::date)`.execute(db);
    return { ...rows[0]!, rows: null };
  }
  const { rows } = await sql<Totals & { rows: string }>`${prepared}
    with ${rollupRows(filter)}
    select count(*) filter (where sales_count <> 0)::text as rows,
           coalesce(sum(sales_count), 0)::text as sales_count, coalesce(sum(total_price), 0)::text as total_price
    from rollup`.execute(db);
  return rows[0]!;
}

export interface DayTotals extends Totals {
  day: string;
}

/** Per day of the range: count and total over all entities (or the search matches). */
export async function dailyTotals(db: Db, filter: RangeFilter): Promise<DayTotals[]> {
  const effective = filter.entityIds ? filter : { ...filter, dimension: { ...filter.dimension, dimension: 'agent' as StatsDimension } };
  const { rows } = await sql<DayTotals>`${prepared}
    with ${rollupRows(effective)}
    select day, sum(sales_count)::text as sales_count, sum(total_price)::text as total_price
    from rollup group by day having sum(sales_count) <> 0 order by day`.execute(db);
  return rows;
}

export interface EntityTotals extends Totals {
  entity_id: string;
  name: string;
}

/**
 * Entities of the range with their range totals, ordered and paged: the rows
 * of the pivot and the overview's top 10. For a standing range (a month, a
 * year, the last 30 days) without a search, O(page + pending) from the period
 * rows (period-rankings.repository.ts); otherwise from the range's daily rows.
 */
export async function entityTotals(db: Db, filter: RangeFilter, sort: Exclude<SortKey, 'day'>, dir: SortDirection, limit: number, offset: number): Promise<EntityTotals[]> {
  const standing = filter.entityIds ? undefined : standingRange(filter.from, filter.to);
  const ranked = standing && await periodEntityTotals(db, filter, standing, sort, dir, limit, offset);
  return ranked ?? rangeEntityTotals(db, filter, sort, dir, limit, offset);
}

/** entityTotals by reading every daily row of the range: O(rows in the range). Custom ranges and searches. */
export async function rangeEntityTotals(db: Db, filter: RangeFilter, sort: Exclude<SortKey, 'day'>, dir: SortDirection, limit: number, offset: number): Promise<EntityTotals[]> {
  const d = dir === 'asc' ? sql`asc` : sql`desc`;
  const order = sort === 'name' ? sql`n.name ${d}, t.entity_id ${d}`
    : sort === 'count' ? sql`t.sales_count ${d}, t.entity_id ${d}`
    : sql`t.total_price ${d}, t.entity_id ${d}`;
  const { rows } = await sql<EntityTotals>`${prepared}
    with ${rollupRows(filter)}, t as (
      select entity_id, sum(sales_count) as sales_count, sum(total_price) as total_price
      from rollup group by entity_id having sum(sales_count) <> 0
    )
    select t.entity_id, n.name, t.sales_count, t.total_price
    from t join ${names(filter.dimension)} as n on n.id = t.entity_id
    order by ${order} limit ${limit} offset ${offset}`.execute(db);
  return rows;
}

export interface Cell extends Totals {
  day: string;
  entity_id: string;
}

/** Every (day, entity) value of the range for the given entities: the pivot's cells and a drill-down's series. */
export async function cells(db: Db, filter: RangeFilter & { entityIds: string[] }): Promise<Cell[]> {
  const { rows } = await sql<Cell>`${prepared}
    with ${rollupRows(filter)}
    select day, entity_id, sales_count, total_price
    from rollup where sales_count <> 0 order by day, entity_id`.execute(db);
  return rows;
}

export async function entityName(db: Db, dimension: DimensionInfo, id: string): Promise<string | undefined> {
  const { rows } = await sql<{ name: string }>`${prepared} select name from ${names(dimension)} where id = ${id}::bigint`.execute(db);
  return rows[0]?.name;
}

export interface Freshness {
  /** Changes whenever what these pages read changes (sql/090_stats_change_marker.sql). */
  marker: string;
  /** Today in the business time zone: the default range ends here. */
  today: string;
}

/** One tiny query; read before the page's data, so a page is never labelled newer than it is. */
export async function freshness(db: Db): Promise<Freshness> {
  const { rows } = await sql<Freshness>`${prepared}
    select stats_change_marker() as marker, (now() at time zone stats_time_zone())::date::text as today`.execute(db);
  return rows[0]!;
}
