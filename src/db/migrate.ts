import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from 'pino';

const projectRoot = path.resolve(import.meta.dirname, '../..');
export const MIGRATIONS_DIR = path.join(projectRoot, 'migrations');
export const REPLACEABLE_SQL_DIR = path.join(projectRoot, 'sql');
const MIGRATIONS_TABLE = 'pgmigrations';

export type MigrationDirection = 'up' | 'down';

/**
 * up: every pending migration, then the replaceable objects of sql/ (when they
 * changed). down: undoes `count` migrations (default one).
 *
 * sql/ is applied only once every migration is up: its functions and triggers
 * stand on the tables the migrations create.
 *
 * All of it is one transaction, under a transaction-scoped advisory lock
 * (node-pg-migrate's own key, so its CLI and we exclude each other): a failed
 * step leaves nothing, a second process starting at once waits and then finds
 * nothing to do, and nothing outlives the transaction. node-pg-migrate's own
 * lock is a session lock, and its unlock may reach another server connection
 * than its lock did behind a transaction pooler (DATABASE_POOLING=transaction),
 * leaving the lock held on a server connection that other clients then use.
 * So node-pg-migrate runs without its lock, its BEGIN/COMMIT turned into a
 * savepoint inside ours. (A migration that cannot run in a transaction, such
 * as CREATE INDEX CONCURRENTLY, has no place here.)
 */
export async function migrate(url: string, direction: MigrationDirection, log: Logger, count?: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', (error) => log.error({ err: error }, 'migration connection failed'));
  await client.connect();
  try {
    await client.query('begin');
    try {
      // Quiet the server's NOTICEs ("does not exist, skipping") during DDL; LOCAL: a session SET would stay on a pooled server connection.
      await client.query(`set local client_min_messages = warning`);
      await client.query(`select pg_advisory_xact_lock(${PG_MIGRATE_LOCK_ID})`);
      const ran = await runner({
        dbClient: withSavepointsForTransactions(client),
        dir: MIGRATIONS_DIR,
        direction,
        count: count ?? (direction === 'up' ? Infinity : 1),
        migrationsTable: MIGRATIONS_TABLE,
        checkOrder: true,
        noLock: true,
        singleTransaction: true,
        log: (message: string) => log.debug(message),
      });
      const names = ran.map((migration) => migration.name);
      const sqlFiles = direction === 'up' ? await applyReplaceableSql(client) : (await forgetReplaceableSql(client), 0);
      await client.query('commit');
      for (const name of names) log.info({ migration: name, direction }, 'migration applied');
      if (sqlFiles > 0) log.info({ files: sqlFiles }, 'replaceable SQL objects applied');
      return names;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  } finally {
    await client.end();
  }
}

/** A transaction-control statement node-pg-migrate sends (`BEGIN`, `COMMIT;`, `ROLLBACK`). */
const TRANSACTION_CONTROL = /^\s*(begin|commit|rollback)\s*;?\s*$/i;
const SAVEPOINT = 'node_pg_migrate';

/** The client, with node-pg-migrate's BEGIN/COMMIT/ROLLBACK run as a savepoint of the caller's transaction. */
function withSavepointsForTransactions(client: pg.Client): pg.Client {
  const query = (text: unknown, ...rest: unknown[]) => {
    const control = typeof text === 'string' ? TRANSACTION_CONTROL.exec(text)?.[1]?.toLowerCase() : undefined;
    if (control === 'begin') return client.query(`savepoint ${SAVEPOINT}`);
    if (control === 'commit') return client.query(`release savepoint ${SAVEPOINT}`);
    if (control === 'rollback') return client.query(`rollback to savepoint ${SAVEPOINT}`);
    return (client.query as (...args: unknown[]) => unknown)(text, ...rest);
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

interface SqlFile {
  name: string;
  text: string;
}

/**
 * The files of migrations/ and sql/ as this process found them: read once.
 * /healthz asks for the status on every probe, and the files only change
 * with a new release, which restarts the process.
 */
let replaceableSqlOnDisk: Promise<{ files: SqlFile[]; digest: string }> | undefined;
let migrationNamesOnDisk: Promise<string[]> | undefined;

function readReplaceableSql(): Promise<{ files: SqlFile[]; digest: string }> {
  replaceableSqlOnDisk ??= readReplaceableSqlFiles();
  return replaceableSqlOnDisk;
}

function readMigrationNames(): Promise<string[]> {
  migrationNamesOnDisk ??= readdir(MIGRATIONS_DIR).then((names) =>
    names.filter((name) => name.endsWith('.sql')).map((name) => name.replace(/\.sql$/, '')));
  return migrationNamesOnDisk;
}

async function readReplaceableSqlFiles(): Promise<{ files: SqlFile[]; digest: string }> {
  const names = (await readdir(REPLACEABLE_SQL_DIR)).filter((name) => name.endsWith('.sql')).sort();
  const files = await Promise.all(
    names.map(async (name) => ({ name, text: await readFile(path.join(REPLACEABLE_SQL_DIR, name), 'utf8') })),
  );
  const hash = createHash('sha256');
  for (const file of files) hash.update(file.name).update('\0').update(file.text).update('\0');
  return { files, digest: hash.digest('hex') };
}

/**
 * Applies sql/ in file order, inside migrate's transaction (whose lock a
 * second process waits for, then sees the digest), if its digest differs
 * from the applied one. Returns how many files it applied.
 */
async function applyReplaceableSql(client: pg.Client): Promise<number> {
  const { files, digest } = await readReplaceableSql();
  const { rows } = await client.query<{ digest: string }>('select digest from replaceable_sql_state');
  if (rows[0]?.digest === digest) return 0;
  for (const file of files) {
    try {
      await client.query(file.text);
    } catch (error) {
      throw new Error(`sql/${file.name}: ${(error as Error).message}`, { cause: error });
    }
  }
  await client.query(
    `insert into replaceable_sql_state (digest) values ($1)
     on conflict (singleton) do update set digest = excluded.digest, applied_at = now()`,
    [digest],
  );
  return files.length;
}

/** After a down migration the objects of sql/ may be gone: the next up applies them all again. */
async function forgetReplaceableSql(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ present: boolean }>(`select to_regclass('replaceable_sql_state') is not null as present`);
  if (rows[0]?.present) await client.query('delete from replaceable_sql_state');
}

export interface MigrationStatus {
  pending: string[];
  replaceableSqlCurrent: boolean;
}

/** What `migrate up` would still do: for /healthz and the CLI. */
export async function migrationStatus(db: pg.Pool | pg.Client): Promise<MigrationStatus> {
  const files = await readMigrationNames();
  const applied = new Set<string>();
  const { rows: tables } = await db.query<{ present: boolean }>(
    `select to_regclass($1) is not null as present`,
    [MIGRATIONS_TABLE],
  );
  if (tables[0]?.present) {
    const { rows } = await db.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE}`);
    for (const row of rows) applied.add(row.name);
  }
  const pending = files.filter((name) => !applied.has(name)).sort();
  let replaceableSqlCurrent = false;
  if (pending.length === 0) {
    const { digest } = await readReplaceableSql();
    const { rows } = await db.query<{ digest: string }>('select digest from replaceable_sql_state');
    replaceableSqlCurrent = rows[0]?.digest === digest;
  }
  return { pending, replaceableSqlCurrent };
}
