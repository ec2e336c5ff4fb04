import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
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
 */
export async function migrate(url: string, direction: MigrationDirection, log: Logger, count?: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', (error) => log.error({ err: error }, 'migration connection failed'));
  await client.connect();
  try {
    // Quiet the server's NOTICEs ("does not exist, skipping") during DDL.
    await client.query(`set client_min_messages = warning`);
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction,
      count: count ?? (direction === 'up' ? Infinity : 1),
      migrationsTable: MIGRATIONS_TABLE,
      checkOrder: true,
      log: (message: string) => log.debug(message),
    });
    const names = ran.map((migration) => migration.name);
    for (const name of names) log.info({ migration: name, direction }, 'migration applied');
    if (direction === 'up') await applyReplaceableSql(client, log);
    else await forgetReplaceableSql(client);
    return names;
  } finally {
    await client.end();
  }
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

/** Applies sql/ in file order, in one transaction, if its digest differs from the applied one. */
async function applyReplaceableSql(client: pg.Client, log: Logger): Promise<void> {
  const { files, digest } = await readReplaceableSql();
  await client.query('begin');
  try {
    // Two processes starting at once: the second waits, then sees the digest.
    await client.query(`select pg_advisory_xact_lock(1952541803, 2)`);
    const { rows } = await client.query<{ digest: string }>('select digest from replaceable_sql_state');
    if (rows[0]?.digest === digest) {
      await client.query('commit');
      return;
    }
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
    await client.query('commit');
    log.info({ files: files.length }, 'replaceable SQL objects applied');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
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
