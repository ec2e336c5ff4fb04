import pg from 'pg';
import { ConfigError } from '../config.ts';
import { describeTarget } from './connection-check.ts';

/**
 * Whether two sessions to `url` ran on one server backend: then a pooler in
 * transaction (or statement) mode is between us and Postgres. The first
 * session stays connected while the second asks, so no session pooler and no
 * Postgres could hand the second the first one's backend; PgBouncer in
 * transaction mode does, since it reuses its most recently released server
 * connection first (server_round_robin = 0, the default). A pooler that
 * rotates its connections may not be caught: the answer true is certain,
 * false only likely. Nothing cheaper tells: `SHOW pool_mode` exists only on
 * PgBouncer's admin console, and through a pooler `inet_server_port()` is
 * still the server's.
 */
export async function sharesServerBackends(url: string): Promise<boolean> {
  const clients = [0, 1].map(() => new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 }));
  for (const client of clients) client.on('error', () => {});
  try {
    const pids: number[] = [];
    for (const client of clients) {
      await client.connect();
      pids.push((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
    }
    return pids[0] === pids[1];
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }
}

/**
 * DATABASE_POOLING=session (the default) through a transaction pooler fails
 * later and at random (`prepared statement "tt_…" already exists`): refuse at
 * start, with the setting to change.
 */
export async function refuseUndeclaredTransactionPooler(url: string): Promise<void> {
  if (await sharesServerBackends(url)) {
    throw new ConfigError(
      `DATABASE_URL (${describeTarget(url)}) leads to a connection pooler in transaction mode (two sessions ran on one server backend): ` +
        'set DATABASE_POOLING=transaction, or point DATABASE_URL at Postgres or a session-mode pool',
    );
  }
}
