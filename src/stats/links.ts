import { DEFAULT_PER_PAGE, type StatsQuery } from './stats-query.ts';

/**
 * A link to a stats page that keeps the current filters, with some changed.
 * Parameters at their defaults are left out, so links stay short; from and to
 * are always written, so a link means the same days tomorrow.
 */
export function statsLink(path: string, query: StatsQuery, changes: Partial<StatsQuery> = {}): string {
  const q = { ...query, ...changes };
  const params = new URLSearchParams();
  params.set('from', q.from);
  params.set('to', q.to);
  if (q.q) params.set('q', q.q);
  if (q.view !== 'table') params.set('view', q.view);
  params.set('sort', q.sort);
  params.set('dir', q.dir);
  if (q.perPage !== DEFAULT_PER_PAGE) params.set('per_page', String(q.perPage));
  if (q.page !== 1) params.set('page', String(q.page));
  return `${path}?${params.toString()}`;
}
