import pg from 'pg';
import { asPreparedStatement } from '../db/kysely.ts';

/** A single data statement: the only kind worth preparing (and a prepared statement holds one command). */
const SINGLE_DATA_STATEMENT = /^\s*(with|select|insert|update|delete)\b[^;]*;?\s*$/i;

/**
 * The pg Client of pg-boss's own pool (pg-pool's `Client` option): pg-boss's
 * data statements (fetch, complete, fail, send, heartbeat, maintenance reads)
 * run as named prepared statements, parsed and planned once per connection.
 *
 * Why: pg-boss sends them unnamed, so Postgres parses and plans its large
 * CTEs on every call. In bench:orders that planning was about 5 ms of
 * Postgres CPU per order (the job insert alone: 1.0 ms to plan, 0.7 ms to run,
 * four times an order), a quarter of the database's work. Its fetch inlines
 * the queue's name and batch size, so there is one text per queue: a bounded
 * set; texts past the process's cap (MAX_PREPARED_TEXTS) run unnamed.
 *
 * DDL, LISTEN, BEGIN and multi-statement texts run as before.
 *
 * A prepared plan lasts until Postgres invalidates it, which ANALYZE of the
 * table does. A worker that starts on a new database plans the fetch while
 * the job table is nearly empty, and may join the fetched batch back to the
 * table by scanning every job of the queue: 1.6 ms of Postgres time per order
 * with a thousand queued (bench:orders --warm-up 0), until autovacuum first
 * analyses the table, about a minute into a busy shop's life. Planned on
 * every call instead, the fetch costs 0.6 ms per order always; prepared,
 * once analysed, 0.3 ms. So it stays prepared.
 */
export class PreparingBossClient extends pg.Client {
  override query(...args: unknown[]): never {
    // (text), (text, values), (text, callback) or (text, values, callback): pg-pool's pool.query passes a callback.
    const [text, second, third] = args;
    const values = typeof second === 'function' ? undefined : second;
    const callback = typeof second === 'function' ? second : third;
    if (typeof text === 'string' && (values === undefined || Array.isArray(values)) && SINGLE_DATA_STATEMENT.test(text)) {
      const named = asPreparedStatement(text, values ?? []);
      if (named) return (typeof callback === 'function' ? super.query(named, callback as () => void) : super.query(named)) as never;
    }
    return (super.query as (...rest: unknown[]) => unknown)(...args) as never;
  }
}
