import type pg from 'pg';

/** What @fastify/rate-limit gives a store's incr callback. */
interface Hits {
  current: number;
  ttl: number;
}
type Done = (error: Error | null, hits: Hits) => void;

/**
 * What @fastify/rate-limit passes to a store's child() at run time: the route's
 * merged limit options with its routeInfo (its .d.ts says RouteOptions).
 */
interface RouteLimit {
  routeInfo?: { method?: string | string[]; url?: string };
  groupId?: string;
}

/** One attempt in the key's current window; a window that has ended starts again at 1. */
const COUNT_HIT = `
  insert into rate_limit_hits as h (key, hits, window_ends_at)
  values ($1, 1, now() + $2 * interval '1 millisecond')
  on conflict (key) do update
    set hits = case when h.window_ends_at <= now() then 1 else h.hits + 1 end,
        window_ends_at = case when h.window_ends_at <= now() then excluded.window_ends_at else h.window_ends_at end
  returning hits, greatest(0, ceil(extract(epoch from (window_ends_at - now())) * 1000))::int as ttl_ms`;

/** Ended windows, a few at a time: the table stays as small as the addresses of the last minute. */
const FORGET_ENDED = `
  delete from rate_limit_hits
  where key in (select key from rate_limit_hits where window_ends_at < now() - interval '1 minute' limit 100)`;

/**
 * A store for @fastify/rate-limit that counts in the database, so every web
 * process shares one count per client address and route (the plugin's own
 * store counts in each process's memory). Fixed windows: the first attempt
 * opens a window of `timeWindow`, and the count starts again after it.
 *
 * The plugin constructs the store itself (`new Store(options)`), so the pool
 * comes in through this factory. A failed count throws: the plugin then
 * answers 500 rather than letting attempts through unlimited.
 */
export function databaseRateLimitStore(pool: pg.Pool) {
  let opened = 0;
  return class DatabaseRateLimitStore {
    private readonly prefix: string;

    constructor(_options: unknown, prefix = 'global') {
      this.prefix = prefix;
    }

    incr(key: string, done: Done, timeWindow: number): void {
      pool.query<{ hits: number; ttl_ms: number }>(COUNT_HIT, [`${this.prefix} ${key}`, timeWindow]).then(({ rows }) => {
        const row = rows[0]!;
        if (row.hits === 1 && ++opened % 50 === 0) void pool.query(FORGET_ENDED).catch(() => {});
        done(null, { current: row.hits, ttl: row.ttl_ms });
      }, (error: Error) => done(error, { current: 0, ttl: 0 }));
    }

    child(options: object): DatabaseRateLimitStore {
      const { routeInfo, groupId } = options as RouteLimit;
      const route = groupId ?? `${[routeInfo?.method ?? ''].flat().join(',')} ${routeInfo?.url ?? ''}`;
      return new DatabaseRateLimitStore(options, route);
    }
  };
}
