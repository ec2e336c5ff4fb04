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

/** The distribution of `to − from` over the items where both are known. */
export function spans<T>(items: readonly T[], from: (item: T) => number | null, to: (item: T) => number | null): Distribution {
  return distribution(items.flatMap((item) => {
    const [a, b] = [from(item), to(item)];
    return a === null || b === null ? [] : [b - a];
  }));
}

export interface Throughput {
  /** Payments made per second (the offered load). */
  payRate: number;
  /** Completed orders ÷ (last completion − first payment). */
  completedPerSecond: number;
  /** Completions per second between the 10th and the 90th percentile of completion times: the rate once running, without start and tail. */
  steadyPerSecond: number;
  /** First payment → last completion, s. */
  seconds: number;
}

/** A workflow phase's rates from when its orders were paid and when they were completed (ms since the epoch). */
export function throughput(payTimes: readonly number[], completionTimes: readonly number[]): Throughput {
  const pays = [...payTimes].sort((a, b) => a - b);
  const done = [...completionTimes].sort((a, b) => a - b);
  const firstPay = pays[0] ?? 0;
  const seconds = done.length ? (done.at(-1)! - firstPay) / 1000 : 0;
  const payRate = pays.length > 1 ? (pays.length - 1) / ((pays.at(-1)! - firstPay) / 1000) : 0;
  const [p10, p90] = [Math.floor(done.length * 0.1), Math.ceil(done.length * 0.9) - 1];
  const steadyPerSecond = done.length >= 10 && done[p90]! > done[p10]! ? (p90 - p10) / ((done[p90]! - done[p10]!) / 1000) : 0;
  return { payRate, completedPerSecond: seconds > 0 ? done.length / seconds : 0, steadyPerSecond, seconds };
}
