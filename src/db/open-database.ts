import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { checkConnection } from './connection-check.ts';
import { withClient } from './one-off-client.ts';
import { refuseUndeclaredTransactionPooler } from './pooler-check.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

export interface DatabaseHandle {
  /** The application database. */
  readonly url: string;
  /** A superuser connection to the same server (tests create databases through it). */
  readonly adminUrl: string;
  /** Stops the embedded server if this process started it. */
  close(): Promise<void>;
}

/** The embedded server's application database. */
const EMBEDDED_DATABASE = 'tanktop';

/**
 * DATABASE_URL when set; otherwise the embedded Postgres under .data/, started
 * (or joined) on demand. Either way the connection is tried once here, so a
 * bad setting fails at start with a sentence, not at the first query; so does
 * a transaction pooler that DATABASE_POOLING does not declare.
 */
export async function openDatabase(config: Config, log: Logger): Promise<DatabaseHandle> {
  if (config.databaseUrl) {
    await checkConnection(config.databaseUrl);
    if (config.databasePooling === 'session') await refuseUndeclaredTransactionPooler(config.databaseUrl);
    return { url: config.databaseUrl, adminUrl: config.databaseUrl, close: async () => {} };
  }
  const server = await startEmbeddedPostgres({ ...config.embeddedPostgres, log });
  try {
    await createDatabaseIfMissing(server.adminUrl, EMBEDDED_DATABASE);
    const url = urlWithDatabase(server.adminUrl, EMBEDDED_DATABASE);
    await checkConnection(url);
    return { url, adminUrl: server.adminUrl, close: () => server.stop() };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export function urlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    const { rowCount } = await client.query('select from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database ${client.escapeIdentifier(name)}`);
  });
}
