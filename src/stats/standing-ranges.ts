import { addDays, daysInRange } from './days.ts';

/**
 * The ranges people look at all day, for which period_sales_stats_folded
 * keeps one row per entity (sql/065_period_sales_stats.sql): a whole calendar
 * month, a whole calendar year, and 30 days (the default range: the last 30
 * days ending today). Any other range is read day by day.
 *
 * A 30-day range is only a candidate: the window rows cover the 30 days ending
 * period_sales_stats_window.last_day, which the reader checks in the same
 * statement (the fold step slides it when today moves).
 */
export interface StandingRange {
  period: 'month' | 'year' | 'window';
  /** The key's period_start: the month's or year's first day; -infinity for the window. */
  periodStart: string;
}

export const WINDOW_DAYS = 30;

export function standingRange(from: string, to: string): StandingRange | undefined {
  const [year, month, day] = from.split('-');
  if (day === '01' && month === '01' && to === `${year}-12-31`) return { period: 'year', periodStart: from };
  // The day before the first of the next month is the month's last day.
  if (day === '01' && to === addDays(firstOfNextMonth(from), -1)) return { period: 'month', periodStart: from };
  if (daysInRange(from, to) === WINDOW_DAYS) return { period: 'window', periodStart: '-infinity' };
  return undefined;
}

function firstOfNextMonth(first: string): string {
  const [year, month] = first.split('-').map(Number) as [number, number];
  const next = month === 12 ? { y: year + 1, m: 1 } : { y: year, m: month + 1 };
  return `${String(next.y).padStart(4, '0')}-${String(next.m).padStart(2, '0')}-01`;
}
