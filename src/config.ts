import path from 'node:path';

/** Everything the service reads from its environment, read once and frozen. */
export interface Config {
  /** A Postgres to use; when absent an embedded Postgres is started. */
  readonly databaseUrl: string | undefined;
  /**
   * How DATABASE_URL's connections reach Postgres. `session`: each connection
   * is a server session of its own (Postgres itself, or a pooler in session
   * mode). `transaction`: a pooler in transaction mode (PgBouncer's
   * `pool_mode = transaction`) that hands the server connection to another
   * client after every transaction: no named prepared statements, no LISTEN,
   * nothing kept in the session (docs/pgbouncer.md).
   */
  readonly databasePooling: DatabasePooling;
  /**
   * Connections of a process's own pool to DATABASE_URL (pages, webhooks,
   * the fold). pg-boss has its own besides: 2 in a web process, 6 in a
   * worker, so a web process holds at most this + 2 and a worker this + 6.
   */
  readonly databasePoolSize: number;
  /** Streaming replicas the stats pages read from (docs/replicas.md); empty: the pages read the primary. */
  readonly readReplicas: ReadReplicasConfig;
  readonly embeddedPostgres: {
    readonly dataDir: string;
    /** EMBEDDED_PG_DATA_DIR is unset: as root, a data dir the postgres user cannot reach is moved to /var/lib/tanktop. */
    readonly dataDirIsDefault: boolean;
    /** Where root copies the Postgres binaries when the postgres user cannot reach node_modules; undefined: the default. */
    readonly cacheDir: string | undefined;
    readonly port: number;
  };
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: string;
  /** The worker process's CPU niceness (0 to 19): on a shared machine, requests go before background jobs. */
  readonly workerNice: number;
  /**
   * Whether `npm start` also runs a worker process of its own. False in the
   * production shape, where workers are processes of their own (`npm run
   * worker`) and their number does not follow the number of web processes.
   */
  readonly startWorker: boolean;
  /**
   * How often each pg-boss instance looks for jobs whose worker stopped
   * sending heartbeats (a killed process) or that outlived their expiry, in
   * seconds: a killed worker's job is retried about this long (at most) after
   * its 15 s heartbeat went stale.
   */
  readonly jobSuperviseSeconds: number;
  /**
   * How often an idle worker looks for jobs of each queue, in ms. Directly
   * connected a NOTIFY wakes it at once and this is a fallback (2 s); behind
   * a transaction pooler there is no LISTEN, so this is how soon the next
   * stage of an order starts (500 ms, pg-boss's minimum).
   */
  readonly jobPollIntervalMs: number;
  /** How often the service folds pending rollup deltas (0: never). */
  readonly statsFoldIntervalMs: number;
  /** Month partitions of sales kept ready beyond the current month (created at start and daily). */
  readonly salesPartitionsAhead: number;
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
  /**
   * Whether the one-time first-user setup link (/setup/<token>, printed at start
   * while there are no users) may be opened from another machine. False: only a
   * client on this machine, connected directly (no proxy in between).
   */
  readonly setupAllowRemote: boolean;
  /** Where people reach the shop: checkout return links are built from it. */
  readonly publicUrl: string;
  /** The payment gateway (Stripe, or the gateway sandbox speaking its wire format). */
  readonly stripe: StripeConfig;
  /** Outgoing mail. */
  readonly mail: { readonly smtpUrl: string; readonly from: string };
  readonly orders: OrdersConfig;
  /** Bearer token for GET /metrics; undefined: /metrics answers loopback clients only. */
  readonly metricsToken: string | undefined;
  /** Alerts to the team's chat channel (src/alerts/). */
  readonly alerts: AlertsConfig;
  /** The drop-shipping supplier (src/supplier/). */
  readonly supplier: SupplierConfig;
}

export interface ReadReplicasConfig {
  /** postgres:// URLs of physical streaming replicas of DATABASE_URL's server, in DATABASE_READ_URL's order. */
  readonly urls: readonly string[];
  /** A replica further behind than this is not read: the pages read the primary instead. */
  readonly maxLagMs: number;
  /** A page read from a replica further behind than this says so. */
  readonly noticeLagMs: number;
  /** How often each replica's replay position (and the primary's WAL position) is read. */
  readonly checkIntervalMs: number;
}

export interface SupplierConfig {
  /**
   * The supplier API's base, with its version (`…/v1`). Unset: no supplier is
   * configured, and paid orders wait in supplier__submit_order until a worker
   * that has one runs (`make start` starts the supplier sandbox and sets it).
   */
  readonly apiUrl: string | undefined;
  /** Sent as `Authorization: Bearer <token>`. A secret. */
  readonly apiToken: string;
  /** Verifies the Supplier-Signature of its webhooks. A secret. */
  readonly webhookSecret: string;
  /** Per API call; far below the supplier jobs' expiry (a job that outlives it may run twice). */
  readonly timeoutMs: number;
  /** An order whose supplier status has not moved for this long is asked about (missed webhooks). */
  readonly pollAfterMinutes: number;
}

export interface AlertsConfig {
  /** A Slack incoming webhook (or the alert sandbox's). A secret: never logged or printed whole. */
  readonly webhookUrl: string;
  /** An incident raised again within this many minutes of its last notification is counted, not sent again. */
  readonly renotifyMinutes: number;
  /** Notifications sent per rolling minute across every worker; beyond it they are suppressed. */
  readonly maxPerMinute: number;
  /** Per webhook request; far below the alert__send job's expiry. */
  readonly timeoutMs: number;
}

/** Where the alert sandbox listens by default (`npm run sandbox:alerts`, `make start`). */
export const ALERT_SANDBOX_DEFAULT_WEBHOOK_URL = 'http://127.0.0.1:8026/hooks/tanktop';

export interface StripeConfig {
  readonly secretKey: string;
  readonly webhookSecret: string;
  /** Another host speaking Stripe's API (the sandbox); undefined: api.stripe.com. */
  readonly apiBase: string | undefined;
  /** Per request; kept well below the jobs' expiry (pg-boss may start a second copy of a job that runs past it). */
  readonly timeoutMs: number;
}

export interface OrdersConfig {
  /** How long a checkout session stays payable (Stripe accepts 30 minutes to 24 hours). */
  readonly checkoutTtlMinutes: number;
  /** The sales agent of orders without a referral code (a sales_agents row, created on first use). */
  readonly defaultSalesAgent: string;
  /** ISO 4217 code, lower case, of a currency with two decimals. */
  readonly currency: string;
  /** Orders waiting for their payment this long are checked with the gateway. */
  readonly reconcileAfterMinutes: number;
  /** The seller printed on invoices. */
  readonly sellerName: string;
  /** Its address, lines separated by `|`. */
  readonly sellerAddress: readonly string[];
}

export type DatabasePooling = 'session' | 'transaction';

export class ConfigError extends Error {}

const projectRoot = path.resolve(import.meta.dirname, '..');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return Object.freeze({
    databaseUrl: optionalUrl(env, 'DATABASE_URL'),
    databasePooling: oneOf(env, 'DATABASE_POOLING', 'session', ['session', 'transaction']) as DatabasePooling,
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
    readReplicas: readReplicas(env),
    embeddedPostgres: Object.freeze({
      dataDir: path.resolve(projectRoot, env.EMBEDDED_PG_DATA_DIR || '.data/postgres'),
      dataDirIsDefault: !env.EMBEDDED_PG_DATA_DIR,
      cacheDir: env.EMBEDDED_PG_CACHE_DIR ? path.resolve(projectRoot, env.EMBEDDED_PG_CACHE_DIR) : undefined,
      port: integer(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    }),
    http: Object.freeze({
      host: env.HOST || '127.0.0.1',
      port: integer(env, 'PORT', 3000, 0, 65535),
    }),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    workerNice: integer(env, 'WORKER_NICE', 5, 0, 19),
    startWorker: oneOf(env, 'START_WORKER', 'true', ['true', 'false']) === 'true',
    jobSuperviseSeconds: integer(env, 'JOB_SUPERVISE_SECONDS', 60, 1, 3600),
    jobPollIntervalMs: integer(env, 'JOB_POLL_INTERVAL_MS', env.DATABASE_POOLING === 'transaction' ? 500 : 2000, 500, 60_000),
    statsFoldIntervalMs: integer(env, 'STATS_FOLD_INTERVAL_MS', 1000, 0, 3_600_000),
    salesPartitionsAhead: integer(env, 'SALES_PARTITIONS_AHEAD', 3, 0, 120),
    demoSales: integer(env, 'DEMO_SALES', 200_000, 0, 100_000_000),
    sessionSecret: secret(env, 'SESSION_SECRET'),
    sessionSecretFile: path.resolve(projectRoot, '.data/session-secret'),
    sessionTtlHours: integer(env, 'SESSION_TTL_HOURS', 12, 1, 24 * 90),
    loginAttemptsPerMinute: integer(env, 'LOGIN_ATTEMPTS_PER_MINUTE', 10, 1, 10_000),
    trustProxy: oneOf(env, 'TRUST_PROXY', 'false', ['true', 'false']) === 'true',
    setupAllowRemote: oneOf(env, 'SETUP_ALLOW_REMOTE', 'false', ['true', 'false']) === 'true',
    publicUrl: httpUrl(env, 'PUBLIC_URL', 'http://127.0.0.1:3000')!.replace(/\/+$/, ''),
    stripe: Object.freeze({
      secretKey: prefixed(env, 'STRIPE_SECRET_KEY', 'sk_test_tanktop_sandbox', ['sk_', 'rk_']),
      webhookSecret: prefixed(env, 'STRIPE_WEBHOOK_SECRET', 'whsec_tanktop_dev_sandbox_secret', ['whsec_']),
      apiBase: httpUrl(env, 'STRIPE_API_BASE', undefined),
      timeoutMs: integer(env, 'STRIPE_TIMEOUT_MS', 5000, 500, 60_000),
    }),
    mail: Object.freeze({
      smtpUrl: smtpUrl(env, 'SMTP_URL', 'smtp://127.0.0.1:2525'),
      from: env.MAIL_FROM || 'Tanktop <orders@tanktop.test>',
    }),
    orders: Object.freeze({
      checkoutTtlMinutes: integer(env, 'ORDER_CHECKOUT_TTL_MINUTES', 60, 30, 24 * 60),
      defaultSalesAgent: nonBlank(env, 'DEFAULT_SALES_AGENT', 'Web shop'),
      currency: oneOf(env, 'ORDER_CURRENCY', 'eur', ['eur', 'usd', 'gbp', 'chf', 'cad', 'aud', 'sek', 'nok', 'dkk', 'pln', 'czk']),
      reconcileAfterMinutes: integer(env, 'ORDER_RECONCILE_AFTER_MINUTES', 15, 1, 24 * 60),
      sellerName: nonBlank(env, 'SELLER_NAME', 'Tanktop Ltd'),
      sellerAddress: Object.freeze(nonBlank(env, 'SELLER_ADDRESS', '1 Example Street|London EC1A 1AA|United Kingdom')
        .split('|').map((line) => line.trim()).filter(Boolean)),
    }),
    metricsToken: bearerToken(env, 'METRICS_TOKEN'),
    alerts: Object.freeze({
      webhookUrl: webhookUrl(env, 'ALERT_WEBHOOK_URL', ALERT_SANDBOX_DEFAULT_WEBHOOK_URL),
      renotifyMinutes: integer(env, 'ALERT_RENOTIFY_MINUTES', 60, 1, 7 * 24 * 60),
      maxPerMinute: integer(env, 'ALERT_MAX_PER_MINUTE', 20, 1, 1000),
      timeoutMs: integer(env, 'ALERT_TIMEOUT_MS', 5000, 500, 30_000),
    }),
    supplier: Object.freeze({
      apiUrl: httpUrl(env, 'SUPPLIER_API_URL', undefined)?.replace(/\/+$/, ''),
      apiToken: token(env, 'SUPPLIER_API_TOKEN', 'tanktop-dev-supplier-token'),
      webhookSecret: nonBlank(env, 'SUPPLIER_WEBHOOK_SECRET', 'supplier_dev_webhook_secret'),
      timeoutMs: integer(env, 'SUPPLIER_TIMEOUT_MS', 5000, 200, 30_000),
      pollAfterMinutes: integer(env, 'SUPPLIER_POLL_AFTER_MINUTES', 30, 1, 7 * 24 * 60),
    }),
  });
}

function readReplicas(env: NodeJS.ProcessEnv): ReadReplicasConfig {
  const urls = (env.DATABASE_READ_URL ?? '').split(',').map((url) => url.trim()).filter(Boolean);
  urls.forEach((url, i) => postgresUrl(urls.length > 1 ? `DATABASE_READ_URL's URL ${i + 1}` : 'DATABASE_READ_URL', url));
  const maxLagMs = integer(env, 'DATABASE_READ_MAX_LAG_MS', 30_000, 0, 86_400_000);
  const noticeLagMs = integer(env, 'DATABASE_READ_NOTICE_LAG_MS', 5_000, 0, 86_400_000);
  if (noticeLagMs > maxLagMs) {
    throw new ConfigError(`DATABASE_READ_NOTICE_LAG_MS (${noticeLagMs}) must not exceed DATABASE_READ_MAX_LAG_MS (${maxLagMs}): a replica that far behind is not read at all`);
  }
  return Object.freeze({
    urls: Object.freeze(urls),
    maxLagMs,
    noticeLagMs,
    checkIntervalMs: integer(env, 'DATABASE_READ_CHECK_INTERVAL_MS', 1000, 50, 60_000),
  });
}

/** A token sent in a header as it is: printable, no spaces (the error never repeats it). */
function token(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name] || fallback;
  if (!/^[\x21-\x7e]+$/.test(value)) throw new ConfigError(`${name} must be printable characters without spaces`);
  return value;
}

/** Like httpUrl, but the value is a secret (a Slack webhook URL carries its token): the error never repeats it. */
function webhookUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name] || fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL (expected https://hooks.slack.com/services/…)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http:// or https:// URL, not ${url.protocol}//…`);
  return value;
}

function httpUrl(env: NodeJS.ProcessEnv, name: string, fallback: string | undefined): string | undefined {
  const value = env[name] || fallback;
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL (expected http://host:port or https://host), not "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must be an http:// or https:// URL, not ${url.protocol}//…`);
  return value;
}

function smtpUrl(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = env[name] || fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a valid URL (expected smtp://user:password@host:port), not "${value}"`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError(`${name} must be an smtp:// or smtps:// URL, not ${url.protocol}//…`);
  return value;
}

function prefixed(env: NodeJS.ProcessEnv, name: string, fallback: string, prefixes: readonly string[]): string {
  const value = env[name] || fallback;
  if (!prefixes.some((prefix) => value.startsWith(prefix)) || value.length < 12) {
    throw new ConfigError(`${name} must start with ${prefixes.join(' or ')} (as the gateway's dashboard shows it)`);
  }
  return value;
}

function nonBlank(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = (env[name] || fallback).trim();
  if (!value) throw new ConfigError(`${name} must not be blank`);
  return value;
}

function optionalUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value ? postgresUrl(name, value) : undefined;
}

function postgresUrl(name: string, value: string): string {
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

function bearerToken(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (!value) return undefined;
  // RFC 6750's token characters, so it travels in an Authorization header as it is; long enough not to be guessed.
  if (value.length < 16 || !/^[A-Za-z0-9\-._~+/]+=*$/.test(value)) {
    throw new ConfigError(`${name} must be at least 16 characters of letters, digits and -._~+/ (e.g. openssl rand -hex 32)`);
  }
  return value;
}
