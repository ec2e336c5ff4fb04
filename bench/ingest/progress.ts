/** Progress lines and the arithmetic of rates. */
import { type Run } from './model.ts';

export const benchStarted = performance.now();

/** A progress line on stderr, stamped with the time since the start. */
export function note(message: string): void {
  const seconds = Math.floor((performance.now() - benchStarted) / 1000);
  const stamp = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  process.stderr.write(`[${stamp}] ${message}\n`);
}

export const int = (n: number) => Math.round(n).toLocaleString('en');
export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
export const rate = (run: Run) => run.rows / (run.ms / 1000);

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function scaled(full: number, scale: number): number {
  return Math.max(1, Math.round(full * scale));
}
