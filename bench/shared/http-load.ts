/**
 * The pages benchmarks' HTTP side, shared by bench:pages and bench:scale: the
 * bench user's sign-in, and an autocannon load of one URL with the client's
 * and the server's latencies.
 */
import autocannon from 'autocannon';
import type pg from 'pg';
import { hashPassword } from '../../src/auth/password.ts';

export const BENCH_PASSWORD = 'bench-password-0123456789';

export interface Latency { rps: number; p50: number; p99: number; serverP50?: number; serverP99?: number }

/** The user the benchmarks sign in as; idempotent. */
export async function addBenchUser(pool: pg.Pool): Promise<void> {
  await pool.query(`insert into users (name, password_hash) values ('bench', $1) on conflict do nothing`, [await hashPassword(BENCH_PASSWORD)]);
}

/** Signs in as the bench user through the login form; returns the cookie header. */
export async function signIn(base: string): Promise<string> {
  const page = await fetch(`${base}/login`);
  const csrfCookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!.replaceAll('&#x3D;', '=');
  const response = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, name: 'bench', password: BENCH_PASSWORD }).toString(),
  });
  if (response.status !== 303) throw new Error(`sign-in failed: ${response.status}`);
  return [csrfCookie, ...response.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ');
}

export function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Filled by the app's onResponse hook with reply.elapsedTime; emptied before the load. */
  serverTimes: number[];
  say: (text: string) => void;
}

/** autocannon on one URL; a non-2xx answer (but to a revalidation) is an error. */
export async function load(url: string, headers: Record<string, string>, options: LoadOptions): Promise<Latency> {
  const { connections, seconds, serverTimes } = options;
  options.say(`autocannon ${connections} connections, ${seconds} s: ${url}${headers['if-none-match'] ? ' (If-None-Match)' : ''}`);
  serverTimes.length = 0;
  // A worker thread: the load generator must not share the app's event loop.
  const result = await autocannon({ url, connections, duration: seconds, headers, workers: 1 });
  if (result.non2xx > 0 && !headers['if-none-match']) throw new Error(`${result.non2xx} responses were not 2xx for ${url}`);
  const server = [...serverTimes].sort((a, b) => a - b);
  return {
    rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99,
    serverP50: percentile(server, 0.5), serverP99: percentile(server, 0.99),
  };
}
