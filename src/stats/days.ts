/** Calendar-day arithmetic on 'YYYY-MM-DD' strings (UTC, so no day is ever 23 or 25 hours). */

const DAY_MS = 86_400_000;

/**
 * The most days eachDay lists: a year with its leap day, the longest range any
 * page accepts (stats-query.ts MAX_RANGE_DAYS). A longer list is a bug upstream.
 */
export const MAX_LISTED_DAYS = 366;

export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Days from..to inclusive: 1 when from = to. */
export function daysInRange(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS) + 1;
}

/**
 * Every day from..to inclusive, counted as numbers and capped: never by
 * comparing the strings, since the day after 9999-12-31 is '+010000-01-01',
 * which sorts before it (a loop on string order would never end).
 */
export function eachDay(from: string, to: string, limit = MAX_LISTED_DAYS): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const count = daysInRange(from, to);
  if (!Number.isFinite(count)) throw new RangeError(`eachDay: "${from}" to "${to}" is not a range of days`);
  if (count > limit) throw new RangeError(`eachDay: ${from} to ${to} is ${count} days, more than the ${limit} a list may hold`);
  const days: string[] = [];
  for (let i = 0; i < count; i++) days.push(new Date(start + i * DAY_MS).toISOString().slice(0, 10));
  return days;
}

/** 'YYYY-MM-DD' that names a real calendar day, or undefined. */
export function parseIsoDate(text: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || text.startsWith('0000')) return undefined; // Postgres has no year 0
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text ? text : undefined;
}
