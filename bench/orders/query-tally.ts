/**
 * Statement counts of this process by phase, when --count-queries loaded the
 * counter (query-counter.ts); otherwise nothing, at no cost.
 */
export type Tally = Record<string, number>;

let source: (() => Tally) | undefined;

export function enableQueryTally(counts: () => Tally): void {
  source = counts;
}

export function tallyNow(): Tally | undefined {
  return source ? { ...source() } : undefined;
}

export function tallyDelta(from: Tally | undefined, to: Tally | undefined): Tally | undefined {
  if (!from || !to) return undefined;
  const delta: Tally = {};
  for (const [key, n] of Object.entries(to)) if (n - (from[key] ?? 0) > 0) delta[key] = n - (from[key] ?? 0);
  return delta;
}
