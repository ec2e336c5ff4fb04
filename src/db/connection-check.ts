import pg from 'pg';
import { SqlState } from './sqlstate.ts';

/** The database cannot be used; the message says why in one sentence. */
export class DatabaseUnavailableError extends Error {}

/** Connects once and runs `select 1`, turning every failure into a sentence. */
export async function checkConnection(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // reported through connect()/query() below
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    throw new DatabaseUnavailableError(explainConnectionError(error, url));
  } finally {
    await client.end().catch(() => {});
  }
}

/** Where a URL points, without its password. */
export function describeTarget(url: string): string {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.slice(1)) || '(default)';
  // A `host` parameter (a Unix socket's directory) overrides the URL's host name, as in pg.
  const host = parsed.searchParams.get('host') ?? parsed.hostname;
  return `${host}:${parsed.port || '5432'}/${database} as ${decodeURIComponent(parsed.username) || '(default user)'}`;
}

export function explainConnectionError(error: unknown, url: string): string {
  const target = describeTarget(url);
  const { code, message = '' } = (error ?? {}) as { code?: string; message?: string };
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot reach Postgres at ${target}: connection refused (is the server running and listening on that port?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot reach Postgres at ${target}: the host name does not resolve`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return `cannot reach Postgres at ${target}: the connection timed out`;
    case SqlState.invalidPassword:
      return `Postgres at ${target} refused the password (wrong password in DATABASE_URL?)`;
    case SqlState.invalidAuthorization:
      return `Postgres at ${target} refused the login: ${message}`;
    case SqlState.unknownDatabase:
      return `the database in ${target} does not exist: create it (createdb) or name another in DATABASE_URL`;
    case SqlState.cannotConnectNow:
      return `Postgres at ${target} is starting up or shutting down: try again in a moment`;
  }
  if (/timeout/i.test(message)) return `cannot reach Postgres at ${target}: the connection timed out`;
  if (/password/i.test(message)) return `Postgres at ${target} asks for a password that DATABASE_URL does not give`;
  return `cannot use Postgres at ${target}: ${message || String(error)}`;
}
