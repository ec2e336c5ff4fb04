/** Number options of the benchmarks' command lines. */
import { UsageError } from '../ingest/model.ts';

/** The flag's value as a number, or `fallback` when absent; a UsageError saying what it takes otherwise. */
export function numberFlag(flag: string, raw: string | undefined, fallback: number, valid: (x: number) => boolean, expected: string): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || !valid(value)) throw new UsageError(`${flag} takes ${expected}, not "${raw}"`);
  return value;
}
