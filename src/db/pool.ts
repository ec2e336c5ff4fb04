import pg from 'pg';
import type { Logger } from 'pino';

/**
 * Type parsers for our pools: `date` stays a 'YYYY-MM-DD' string (a calendar
 * day has no time zone; a JS Date would shift it by the process's offset).
 * bigint and numeric stay strings, pg's default: exact, never a float.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.DATE ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/** A pg Pool whose idle-connection errors are logged instead of crashing the process. */
export function createPool(url: string, log: Logger, options: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10, types, ...options });
  pool.on('error', (error) => log.error({ err: error }, 'idle database connection failed'));
  return pool;
}
