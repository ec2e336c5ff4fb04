import type { Db } from '../db/kysely.ts';
import { HttpError } from '../http/http-error.ts';
import { barChart, type ChartPoint } from './bar-chart.ts';
import { addDays, eachDay } from './days.ts';
import type { DimensionInfo } from './dimensions.ts';
import { centsToDecimal, formatCount, formatDay, formatMoney, formatShortDay, plainMoney, toCents } from './format.ts';
import { statsLink } from './links.ts';
import * as repository from './stats.repository.ts';
import { sortKeys, type StatsQuery } from './stats-query.ts';

/** Rows of a table page, exact strings as read, plus whether another page follows. */
export interface TableData {
  rows: repository.StatsRow[];
  totals: repository.Totals & { rows: string | null };
  hasNext: boolean;
}

/** The search matches, or undefined without a search. An empty list matches nothing. */
async function searchIds(db: Db, dimension: DimensionInfo, query: Pick<StatsQuery, 'q'>): Promise<string[] | undefined> {
  return query.q === undefined ? undefined : repository.searchEntityIds(db, dimension, query.q);
}

export function rangeFilter(dimension: DimensionInfo, query: Pick<StatsQuery, 'from' | 'to'>, entityIds?: string[]): repository.RangeFilter {
  return { dimension, from: query.from, to: query.to, entityIds };
}

/** The page's rows and totals; a page past the last one is a 404. */
export async function tableData(db: Db, dimension: DimensionInfo, query: StatsQuery): Promise<TableData> {
  const filter = rangeFilter(dimension, query, await searchIds(db, dimension, query));
  const offset = (query.page - 1) * query.perPage;
  // One row more than shown says whether there is a next page, without counting the range.
  // Rows and totals on two connections at once: the page waits for the slower, not the sum.
  const [fetched, totals] = await Promise.all([
    query.sort === 'day' && !filter.entityIds
      ? repository.rowsByDay(db, filter, query.dir, query.perPage + 1, offset)
      : repository.rowsSorted(db, filter, query.sort, query.dir, query.perPage + 1, offset),
    repository.rangeTotals(db, filter),
  ]);
  if (fetched.length === 0 && query.page > 1) {
    throw new HttpError(404, 'page_not_found', `Page ${query.page} is past the last page of results for these filters.`);
  }
  return { rows: fetched.slice(0, query.perPage), totals, hasNext: fetched.length > query.perPage };
}

/** The JSON form of a table page: the same rows and totals as the HTML, money as exact decimal strings. */
export function tableJson(dimension: DimensionInfo, query: StatsQuery, data: TableData) {
  return {
    dimension: dimension.slug,
    from: query.from, to: query.to, q: query.q ?? null, sort: query.sort, dir: query.dir,
    page: query.page, per_page: query.perPage, has_next_page: data.hasNext,
    totals: { sales_count: Number(data.totals.sales_count), total_price: plainMoney(data.totals.total_price), rows: data.totals.rows === null ? null : Number(data.totals.rows) },
    rows: data.rows.map((row) => ({
      day: row.day, id: row.entity_id, name: row.name, sales_count: Number(row.sales_count), total_price: plainMoney(row.total_price),
    })),
  };
}

function columnLinks(path: string, query: StatsQuery) {
  return Object.fromEntries(sortKeys.map((key) => {
    const current = query.sort === key;
    const dir = current ? (query.dir === 'asc' ? 'desc' : 'asc') : key === 'name' ? 'asc' : 'desc';
    return [key, { href: statsLink(path, query, { sort: key, dir, page: 1 }), indicator: current ? (query.dir === 'asc' ? '▲' : '▼') : '', ariaSort: current ? (query.dir === 'asc' ? 'ascending' : 'descending') : 'none' }];
  }));
}

function pager(path: string, query: StatsQuery, shown: number, hasNext: boolean) {
  const first = (query.page - 1) * query.perPage + 1;
  return {
    page: query.page,
    range: shown ? `${formatCount(String(first))}–${formatCount(String(first + shown - 1))}` : '0',
    previous: query.page > 1 ? statsLink(path, query, { page: query.page - 1 }) : undefined,
    next: hasNext ? statsLink(path, query, { page: query.page + 1 }) : undefined,
  };
}

function filtersModel(path: string, dimension: DimensionInfo, query: StatsQuery) {
  return {
    action: path, from: query.from, to: query.to, q: query.q ?? '', sort: query.sort, dir: query.dir, perPage: query.perPage,
    view: query.view, isPivot: query.view === 'pivot', searchLabel: `${dimension.singular} name contains`,
    tableLink: statsLink(path, query, { view: 'table', sort: 'day', dir: 'desc', page: 1 }),
    pivotLink: statsLink(path, query, { view: 'pivot', sort: 'name', dir: 'asc', page: 1, from: query.to < addDays(query.from, 30) ? query.from : addDays(query.to, -30) }),
  };
}

export async function tablePage(db: Db, dimension: DimensionInfo, query: StatsQuery) {
  const path = `/stats/${dimension.slug}`;
  const data = await tableData(db, dimension, query);
  const downloadQuery = statsLink('', query).slice(1);
  return {
    title: `${dimension.title}: daily sales`,
    heading: dimension.title,
    dimension,
    filters: filtersModel(path, dimension, query),
    columns: columnLinks(path, query),
    rows: data.rows.map((row) => ({
      day: row.day, dayLabel: formatDay(row.day), name: row.name,
      href: `${path}/${row.entity_id}?from=${query.from}&to=${query.to}`,
      count: formatCount(row.sales_count), total: formatMoney(row.total_price),
    })),
    totals: { count: formatCount(data.totals.sales_count), total: formatMoney(data.totals.total_price), rows: data.totals.rows === null ? undefined : formatCount(data.totals.rows) },
    pager: pager(path, query, data.rows.length, data.hasNext),
    csvHref: `${path}.csv?${downloadQuery}`,
    jsonHref: `/api/stats/${dimension.slug}?${downloadQuery}`,
    range: `${formatDay(query.from)} to ${formatDay(query.to)}`,
    empty: data.rows.length === 0,
  };
}

/** The pivot: a page of entities as rows, the range's days as columns, row and column totals. */
export async function pivotData(db: Db, dimension: DimensionInfo, query: StatsQuery) {
  const filter = rangeFilter(dimension, query, await searchIds(db, dimension, query));
  const sort = query.sort === 'day' ? 'name' : query.sort;
  const fetched = await repository.entityTotals(db, filter, sort, query.dir, query.perPage + 1, (query.page - 1) * query.perPage);
  if (fetched.length === 0 && query.page > 1) {
    throw new HttpError(404, 'page_not_found', `Page ${query.page} is past the last page of results for these filters.`);
  }
  const entities = fetched.slice(0, query.perPage);
  const values = entities.length ? await repository.cells(db, { ...filter, entityIds: entities.map((e) => e.entity_id) }) : [];
  const columnTotals = await repository.dailyTotals(db, filter);
  const totals = await repository.rangeTotals(db, filter);
  return { days: eachDay(query.from, query.to), entities, values, columnTotals, totals, hasNext: fetched.length > query.perPage };
}

export async function pivotPage(db: Db, dimension: DimensionInfo, query: StatsQuery) {
  const path = `/stats/${dimension.slug}`;
  const data = await pivotData(db, dimension, query);
  const byKey = new Map(data.values.map((cell) => [`${cell.entity_id}|${cell.day}`, cell]));
  const byDay = new Map(data.columnTotals.map((day) => [day.day, day]));
  return {
    title: `${dimension.title}: pivot`,
    heading: dimension.title,
    dimension,
    filters: filtersModel(path, dimension, query),
    columns: columnLinks(path, { ...query, view: 'pivot' }),
    days: data.days.map((day) => ({ day, label: formatShortDay(day) })),
    rows: data.entities.map((entity) => ({
      name: entity.name,
      href: `${path}/${entity.entity_id}?from=${query.from}&to=${query.to}`,
      cells: data.days.map((day) => {
        const cell = byKey.get(`${entity.entity_id}|${day}`);
        return cell ? { count: formatCount(cell.sales_count), total: formatMoney(cell.total_price) } : { empty: true };
      }),
      count: formatCount(entity.sales_count), total: formatMoney(entity.total_price),
    })),
    columnTotals: data.days.map((day) => {
      const cell = byDay.get(day);
      return { count: formatCount(cell?.sales_count ?? '0'), total: formatMoney(cell?.total_price ?? '0') };
    }),
    totals: { count: formatCount(data.totals.sales_count), total: formatMoney(data.totals.total_price) },
    pager: pager(path, query, data.entities.length, data.hasNext),
    range: `${formatDay(query.from)} to ${formatDay(query.to)}`,
    empty: data.entities.length === 0,
  };
}

/** Every day of the range for one entity, zeros included. */
export async function entitySeries(db: Db, dimension: DimensionInfo, id: string, range: { from: string; to: string }) {
  const name = await repository.entityName(db, dimension, id);
  if (name === undefined) throw new HttpError(404, 'not_found', `There is no ${dimension.singular} with id ${id}.`);
  const found = await repository.cells(db, { ...rangeFilter(dimension, range), entityIds: [id] });
  const byDay = new Map(found.map((cell) => [cell.day, cell]));
  const days = eachDay(range.from, range.to).map((day) => ({
    day, sales_count: byDay.get(day)?.sales_count ?? '0', total_price: byDay.get(day)?.total_price ?? '0',
  }));
  let count = 0n;
  let cents = 0n;
  for (const cell of found) {
    count += BigInt(cell.sales_count);
    cents += toCents(cell.total_price);
  }
  return { id, name, days, totals: { sales_count: count.toString(), total_price: centsToDecimal(cents) } };
}

export async function entityPage(db: Db, dimension: DimensionInfo, id: string, range: { from: string; to: string }) {
  const series = await entitySeries(db, dimension, id, range);
  const path = `/stats/${dimension.slug}/${id}`;
  const points: ChartPoint[] = series.days.map((d) => ({ day: d.day, value: d.total_price }));
  const query = `from=${range.from}&to=${range.to}`;
  return {
    title: `${series.name}: daily sales`,
    heading: series.name,
    dimension,
    backHref: `/stats/${dimension.slug}?${query}`,
    filters: { action: path, from: range.from, to: range.to, rangeOnly: true },
    chart: barChart(`chart-${dimension.dimension}-${id}`, `Total sales per day: ${series.name}`, 'Total', points),
    rows: [...series.days].reverse().map((d) => ({ dayLabel: formatDay(d.day), day: d.day, count: formatCount(d.sales_count), total: formatMoney(d.total_price) })),
    totals: { count: formatCount(series.totals.sales_count), total: formatMoney(series.totals.total_price) },
    csvHref: `${path}.csv?${query}`,
    jsonHref: `/api/stats/${dimension.slug}/${id}?${query}`,
    range: `${formatDay(range.from)} to ${formatDay(range.to)}`,
  };
}

export function entityJson(dimension: DimensionInfo, range: { from: string; to: string }, series: Awaited<ReturnType<typeof entitySeries>>) {
  return {
    dimension: dimension.slug, id: series.id, name: series.name, from: range.from, to: range.to,
    totals: { sales_count: Number(series.totals.sales_count), total_price: plainMoney(series.totals.total_price) },
    days: series.days.map((d) => ({ day: d.day, sales_count: Number(d.sales_count), total_price: plainMoney(d.total_price) })),
  };
}

/** The overview: today, 7 and 30 days; 90 days as a chart; the range's top 10 of each dimension. */
export async function overviewPage(db: Db, allDimensions: readonly DimensionInfo[], query: StatsQuery, today: string) {
  const agents = allDimensions[0]!;
  const chartFrom = addDays(today, -89);
  const daily = await repository.dailyTotals(db, rangeFilter(agents, { from: chartFrom, to: today }));
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const sumSince = (from: string) => {
    let count = 0n;
    let cents = 0n;
    for (const d of daily) {
      if (d.day < from) continue;
      count += BigInt(d.sales_count);
      cents += toCents(d.total_price);
    }
    return { count: formatCount(count.toString()), total: formatMoney(centsToDecimal(cents)) };
  };
  const points: ChartPoint[] = eachDay(chartFrom, today).map((day) => ({ day, value: byDay.get(day)?.total_price ?? '0' }));
  // The three top-10 lists are independent: read them at once, as tableData reads rows and totals.
  const tops = await Promise.all(allDimensions.map(async (dimension) => {
    const top = await repository.entityTotals(db, rangeFilter(dimension, query), 'total', 'desc', 10, 0);
    return {
      title: dimension.title,
      moreHref: statsLink(`/stats/${dimension.slug}`, { ...query, view: 'table', sort: 'total', dir: 'desc', page: 1 }),
      rows: top.map((e, i) => ({
        rank: i + 1, name: e.name, href: `/stats/${dimension.slug}/${e.entity_id}?from=${query.from}&to=${query.to}`,
        count: formatCount(e.sales_count), total: formatMoney(e.total_price),
      })),
    };
  }));
  return {
    title: 'Overview',
    heading: 'Overview',
    periods: [
      { label: `Today (${formatDay(today)})`, ...sumSince(today) },
      { label: 'Last 7 days', ...sumSince(addDays(today, -6)) },
      { label: 'Last 30 days', ...sumSince(addDays(today, -29)) },
    ],
    chart: barChart('chart-overview', 'Total sales per day, last 90 days', 'Total', points),
    filters: { action: '/', from: query.from, to: query.to, rangeOnly: true },
    range: `${formatDay(query.from)} to ${formatDay(query.to)}`,
    tops,
  };
}
