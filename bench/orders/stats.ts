/** Percentiles and their formatting. */
import type { Distribution } from './model.ts';

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 };
}

export const ms = (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(1));
export const perSecond = (value: number) => value.toFixed(1);
export const pair = (d: Distribution) => (d.count === 0 ? '—' : `${ms(d.p50)} / ${ms(d.p99)}`);
