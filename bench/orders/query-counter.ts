/**
 * `--count-queries` (a diagnosis, not a measurement: it costs a little per
 * query): counts every statement a process sends through `pg` (the app's
 * pools, kysely, pg-boss), by its text, and writes the counts as JSON to
 * TANKTOP_BENCH_QUERY_COUNTS when the process exits. Loaded with
 * `node --import` into the worker, imported by the benchmark itself.
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';

const counts = new Map<string, number>();

/** A statement's shape: whitespace collapsed, literals and parameter lists left as they are, cut to 100 characters. */
export function statementKey(text: string): string {
  return text.replace(/\/\*.*?\*\//g, ' ').replace(/\s+/g, ' ').trim().slice(0, 100);
}

export function queryCounts(): Record<string, number> {
  return Object.fromEntries(counts);
}

const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function query(this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string } | undefined;
  const text = typeof first === 'string' ? first : first?.text;
  // The benchmark's own bookkeeping (queue samples, completion checks) is marked and left out.
  if (typeof text === 'string' && !text.startsWith('/* bench */')) {
    const key = statementKey(text);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return original.apply(this, args);
} as typeof pg.Client.prototype.query;

const target = process.env.TANKTOP_BENCH_QUERY_COUNTS;
if (target) process.on('exit', () => writeFileSync(target, JSON.stringify(queryCounts())));
