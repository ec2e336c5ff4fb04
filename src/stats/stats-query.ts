import { HttpError } from '../http/http-error.ts';
import { addDays, daysInRange, parseIsoDate } from './days.ts';

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

const known = new Set(['from', 'to', 'q', 'sort', 'dir', 'page', 'per_page', 'view']);

/**
 * Reads the query string of a stats page. Anything wrong is a 400 with a
 * sentence naming the parameter; nothing unchecked reaches SQL.
 * `today` is the business day (the stats time zone's), for the default range.
 */
export function parseStatsQuery(raw: Record<string, unknown>, today: string): StatsQuery {
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw bad(`There is no parameter "${key}"; use from, to, q, sort, dir, page, per_page or view.`);
    if (typeof raw[key] !== 'string') throw bad(`The parameter "${key}" is given more than once.`);
  }
  const value = (key: string) => {
    const text = (raw[key] as string | undefined)?.trim();
    return text === '' ? undefined : text;
  };

  const view = value('view') ?? 'table';
  if (view !== 'table' && view !== 'pivot') throw bad(`view must be table or pivot, not "${view}".`);

  // One end given: the range is the 30 days from or up to it; none: the last 30 days.
  const givenFrom = date('from', value('from'));
  const givenTo = date('to', value('to'));
  const until = givenTo ?? (givenFrom ? addDays(givenFrom, DEFAULT_RANGE_DAYS - 1) : today);
  const from = givenFrom ?? addDays(until, -(DEFAULT_RANGE_DAYS - 1));
  if (from > until) throw bad(`The range starts (${from}) after it ends (${until}): "from" must be on or before "to".`);
  const limit = view === 'pivot' ? MAX_PIVOT_DAYS : MAX_RANGE_DAYS;
  const days = daysInRange(from, until);
  if (days > limit) {
    throw bad(`The range ${from} to ${until} covers ${days} days; ${view === 'pivot' ? 'the pivot view shows' : 'a page covers'} at most ${limit}.`);
  }

  const q = value('q');
  if (q !== undefined && q.length > MAX_SEARCH_LENGTH) throw bad(`The search text is longer than ${MAX_SEARCH_LENGTH} characters.`);

  const defaultSort: SortKey = view === 'pivot' ? 'name' : 'day';
  const sort = (value('sort') ?? defaultSort) as SortKey;
  if (!sortKeys.includes(sort)) throw bad(`sort must be one of ${sortKeys.join(', ')}, not "${value('sort')}".`);
  if (view === 'pivot' && sort === 'day') throw bad('The pivot view has a column per day, so it sorts by name, count or total, not day.');
  const dir = value('dir') ?? (sort === 'name' ? 'asc' : 'desc');
  if (dir !== 'asc' && dir !== 'desc') throw bad(`dir must be asc or desc, not "${dir}".`);

  return {
    from, to: until, q, sort, dir, view,
    page: whole('page', value('page'), 1, 1, MAX_PAGE),
    perPage: whole('per_page', value('per_page'), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
  };
}

/** The drill-down pages take only a range. */
export function parseRangeQuery(raw: Record<string, unknown>, today: string): { from: string; to: string } {
  const allowed = new Set(['from', 'to']);
  const extra = Object.keys(raw).find((key) => !allowed.has(key));
  if (extra !== undefined) throw bad(`There is no parameter "${extra}" on this page; use from and to.`);
  const { from, to } = parseStatsQuery(raw, today);
  return { from, to };
}

/** An entity id from the path: digits only, and within bigint. */
export function parseEntityId(raw: string, singular: string): string {
  if (!/^\d{1,18}$/.test(raw)) throw bad(`"${raw}" is not a ${singular} id: ids are whole numbers.`);
  return raw.replace(/^0+(?=\d)/, '');
}

function date(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const day = parseIsoDate(text);
  if (!day) throw bad(`"${name}" must be a date written YYYY-MM-DD, such as 2026-03-10, not "${text}".`);
  return day;
}

function whole(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw bad(`${name} must be a whole number from ${min} to ${max}, not "${text}".`);
  }
  return Number(text);
}

function bad(message: string): HttpError {
  return new HttpError(400, 'bad_request', message);
}
