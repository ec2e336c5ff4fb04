import { bad, dayRange, readQuery, rowId, shown, wholeNumber } from '../http/input.ts';

/** The longest range a table, CSV or JSON request may cover: a year, leap day included. */
export const MAX_RANGE_DAYS = 366;
/** The pivot has a column per day: beyond a month it stops being readable. */
export const MAX_PIVOT_DAYS = 31;
export const DEFAULT_RANGE_DAYS = 30;
export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 500;
/** Deep OFFSETs cost what they skip; 2,000 pages of 500 rows is past any reading. */
export const MAX_PAGE = 2_000;
export const MAX_SEARCH_LENGTH = 100;

export const sortKeys = ['day', 'name', 'count', 'total'] as const;
export type SortKey = (typeof sortKeys)[number];
export type SortDirection = 'asc' | 'desc';

/** A validated stats request. Every field has been checked; the repository trusts it. */
export interface StatsQuery {
  from: string;
  to: string;
  q: string | undefined;
  sort: SortKey;
  dir: SortDirection;
  page: number;
  perPage: number;
  view: 'table' | 'pivot';
}

const parameters = ['from', 'to', 'q', 'sort', 'dir', 'page', 'per_page', 'view'] as const;

/**
 * Reads the query string of a stats page. Anything wrong is a 400 with a
 * sentence naming the parameter; nothing unchecked reaches SQL (the readers
 * and bounds are src/http/input.ts's).
 * `today` is the business day (the stats time zone's), for the default range.
 */
export function parseStatsQuery(raw: unknown, today: string): StatsQuery {
  const value = readQuery(raw, parameters);

  const view = value('view') ?? 'table';
  if (view !== 'table' && view !== 'pivot') throw bad(`view must be table or pivot, not "${shown(view)}".`);

  // One end given: the range is the 30 days from or up to it; none: the last 30 days.
  const { from, to } = dayRange(value('from'), value('to'), {
    span: DEFAULT_RANGE_DAYS, today,
    maxDays: view === 'pivot' ? MAX_PIVOT_DAYS : MAX_RANGE_DAYS,
    covers: view === 'pivot' ? 'the pivot view shows' : 'a page covers',
  })!;

  const q = value('q');
  if (q !== undefined && q.length > MAX_SEARCH_LENGTH) throw bad(`The search text is longer than ${MAX_SEARCH_LENGTH} characters.`);

  const defaultSort: SortKey = view === 'pivot' ? 'name' : 'day';
  const sort = (value('sort') ?? defaultSort) as SortKey;
  if (!sortKeys.includes(sort)) throw bad(`sort must be one of ${sortKeys.join(', ')}, not "${shown(sort)}".`);
  if (view === 'pivot' && sort === 'day') throw bad('The pivot view has a column per day, so it sorts by name, count or total, not day.');
  const dir = value('dir') ?? (sort === 'name' ? 'asc' : 'desc');
  if (dir !== 'asc' && dir !== 'desc') throw bad(`dir must be asc or desc, not "${shown(dir)}".`);

  return {
    from, to, q, sort, dir, view,
    page: wholeNumber('page', value('page'), 1, 1, MAX_PAGE),
    perPage: wholeNumber('per_page', value('per_page'), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
  };
}

/** The drill-down pages take only a range. */
export function parseRangeQuery(raw: unknown, today: string): { from: string; to: string } {
  readQuery(raw, ['from', 'to'], { page: ' on this page' }); // refuses any other parameter
  const { from, to } = parseStatsQuery(raw, today);
  return { from, to };
}

/** An entity id from the path: a positive whole number within bigint. */
export function parseEntityId(raw: string, singular: string): string {
  return rowId(raw, (text) => `"${text}" is not a ${singular} id: ids are whole numbers from 1.`);
}
