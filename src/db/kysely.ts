import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import type { DatabasePooling } from '../config.ts';
import type { Database } from './schema.ts';

export type Db = Kysely<Database>;

/**
 * Queries whose SQL starts or ends with this comment run as named prepared
 * statements: Postgres parses and plans them once per connection instead of
 * on every call. For the hot reads of the pages (a CTE parsed, analysed and
 * planned costs more than running it: 1.7 ms against 0.4 ms per call on the
 * stats page's rows) and the order workflow's statements (the state
 * machine's compare-and-set CTE plans in 0.46 ms and runs in 0.10 ms).
 * Opt-in, because every distinct text becomes a statement kept on each
 * connection: only fixed-shape queries may use it (no IN lists, no
 * multi-row VALUES).
 *
 * Behind a transaction pooler (DATABASE_POOLING=transaction) the mark is
 * ignored: a statement prepared on one server connection is missing from the
 * next one the pooler hands out, and present (`already exists`) on one that
 * another client prepared it on.
 */
export const PREPARED = '/* prepared */';

/**
 * The mark as SQL: `sql\`${prepared} select …\`` for raw queries, and
 * `.modifyEnd(prepared)` for Kysely's builders.
 */
export const prepared = sql.raw(PREPARED);

/**
 * Kysely over a pool from createPool (which sets the type parsers). With
 * `pooling: 'transaction'` every statement runs unnamed (see PREPARED).
 */
export function createDb(pool: pg.Pool, options: { pooling?: DatabasePooling } = {}): Db {
  const named = (options.pooling ?? 'session') === 'session';
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: named ? preparingPool(pool) : pool }) });
}

const statementNames = new Map<string, string>();

/**
 * Distinct statement texts this process prepares, at most: each one is a
 * statement (and, once used, a plan) kept on every connection that ran it.
 * The texts marked here and pg-boss's are a few dozen; the cap only guards
 * against a text that would vary with its data, which then runs unnamed.
 */
export const MAX_PREPARED_TEXTS = 500;

/** The prepared statement's name for a text (the same text, the same name), or undefined past the cap. */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= MAX_PREPARED_TEXTS) return undefined;
    // Named by content: the same text always gets the same name, different texts never share one.
    name = `tt_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * The query as a named prepared statement, for pg's client.query: this
 * pool's marked queries and pg-boss's statements (src/jobs/preparing-boss-client.ts)
 * alike. Undefined past the cap: run it unnamed.
 */
export function asPreparedStatement(text: string, values: unknown[] | undefined): pg.QueryConfig | undefined {
  const name = statementName(text);
  return name === undefined ? undefined : { name, text, values };
}

function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    get Client() {
      // pg-pool sets it (kysely opens a control connection with it to cancel queries); @types/pg omits it.
      return (pool as unknown as Pick<PostgresPool, 'Client'>).Client;
    },
    get options() {
      return pool.options;
    },
    end: () => pool.end(),
    connect: async () => preparingClient(await pool.connect()),
  };
}

function preparingClient(client: pg.PoolClient): PostgresPoolClient {
  const query = (text: unknown, values?: unknown[]) => {
    const named = typeof text === 'string' && (text.startsWith(PREPARED) || text.endsWith(PREPARED)) ? asPreparedStatement(text, values) : undefined;
    if (named) return client.query(named);
    return client.query(text as string, values);
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as PostgresPoolClient;
}
