import path from 'node:path';

/** Everything the service reads from its environment, read once and frozen. */
export interface Config {
  /** A Postgres to use; when absent an embedded Postgres is started. */
  readonly databaseUrl: string | undefined;
  readonly embeddedPostgres: { readonly dataDir: string; readonly port: number };
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: string;
  /** How often the service folds pending rollup deltas (0: never). */
  readonly statsFoldIntervalMs: number;
  /** Sales in the demo data set loaded into an empty database (0: none). */
  readonly demoSales: number;
  /** Signs the CSRF cookie; when absent, a random key kept in .data/ (development). */
  readonly sessionSecret: string | undefined;
  /** Where the development session key is kept when SESSION_SECRET is unset. */
  readonly sessionSecretFile: string;
  /** How long a sign-in lasts. */
  readonly sessionTtlHours: number;
  /** Failed and successful sign-in attempts allowed per client address and minute. */
  readonly loginAttemptsPerMinute: number;
  /** Behind a TLS-terminating proxy: trust X-Forwarded-Proto/-For (cookies become Secure on https). */
  readonly trustProxy: boolean;
}

export class ConfigError extends Error {}

const projectRoot = path.resolve(import.meta.dirname, '..');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return Object.freeze({
    databaseUrl: optionalUrl(env, 'DATABASE_URL'),
    embeddedPostgres: Object.freeze({
      dataDir: path.resolve(projectRoot, env.EMBEDDED_PG_DATA_DIR || '.data/postgres'),
      port: integer(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    }),
    http: Object.freeze({
      host: env.HOST || '127.0.0.1',
      port: integer(env, 'PORT', 3000, 0, 65535),
    }),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    statsFoldIntervalMs: integer(env, 'STATS_FOLD_INTERVAL_MS', 1000, 0, 3_600_000),
    demoSales: integer(env, 'DEMO_SALES', 200_000, 0, 100_000_000),
    sessionSecret: secret(env, 'SESSION_SECRET'),
    sessionSecretFile: path.resolve(projectRoot, '.data/session-secret'),
    sessionTtlHours: integer(env, 'SESSION_TTL_HOURS', 12, 1, 24 * 90),
    loginAttemptsPerMinute: integer(env, 'LOGIN_ATTEMPTS_PER_MINUTE', 10, 1, 10_000),
    trustProxy: oneOf(env, 'TRUST_PROXY', 'false', ['true', 'false']) === 'true',
  });
}

function optionalUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (!value) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new ConfigError(`${name} must be a postgres:// URL, not ${url.protocol}//…`);
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${name} is not a valid URL (expected postgres://user:password@host:port/database)`);
  }
  return value;
}

function secret(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (!value) return undefined;
  // Cookie signatures are HMACs: a short key can be guessed offline.
  if (value.length < 32) throw new ConfigError(`${name} must be at least 32 characters long (e.g. openssl rand -base64 32)`);
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
}

function oneOf(env: NodeJS.ProcessEnv, name: string, fallback: string, allowed: readonly string[]): string {
  const value = env[name] || fallback;
  if (!allowed.includes(value)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, not "${value}"`);
  }
  return value;
}
