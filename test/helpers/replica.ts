import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chown, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Test } from 'tap';
import { reachableBinaries, defaultCacheDir } from '../../src/db/embedded-postgres-binaries.ts';
import { asServerUser, serverUser, type ServerUser } from '../../src/db/embedded-postgres-user.ts';
import { migrate } from '../../src/db/migrate.ts';
import { withClient } from '../../src/db/one-off-client.ts';
import { urlWithDatabase } from '../../src/db/open-database.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const quiet = createLogger('silent');

/** Debian's packaged server, whose pg_basebackup matches it. */
const DEBIAN_BIN = (major: number) => `/usr/lib/postgresql/${major}/bin`;

interface Binaries {
  readonly bin: string;
  /** Absent from the embedded package: then the copy is made with the low-level backup API. */
  readonly basebackup: string | undefined;
}

/**
 * The binaries of a major version: Debian's when installed (with
 * pg_basebackup), else the embedded package's when it is that version (no
 * pg_basebackup), else undefined.
 */
async function binariesFor(major: number, user: ServerUser): Promise<Binaries | undefined> {
  const debian = DEBIAN_BIN(major);
  if (existsSync(path.join(debian, 'postgres'))) {
    const basebackup = path.join(debian, 'pg_basebackup');
    return { bin: debian, basebackup: existsSync(basebackup) ? basebackup : undefined };
  }
  const embedded = await reachableBinaries(user, defaultCacheDir(), quiet).catch(() => undefined);
  if (!embedded) return undefined;
  const { stdout } = await run(path.join(embedded.root, 'bin', 'postgres'), ['--version'], asServerUser(user));
  return Number(/(\d+)\./.exec(stdout)?.[1]) === major ? { bin: path.join(embedded.root, 'bin'), basebackup: undefined } : undefined;
}

/** The major version of the server the test run uses (DATABASE_URL's, or the embedded one). */
export async function testServerMajor(): Promise<number> {
  const adminUrl = process.env.TANKTOP_TEST_ADMIN_URL;
  if (!adminUrl) throw new Error('run the tests through `npm test` (test/run.ts), which prepares the database');
  return serverMajor(adminUrl);
}

/** The major version of the server at `url`. */
export async function serverMajor(url: string): Promise<number> {
  return withClient(url, async (client) => Math.floor(Number((await client.query<{ v: string }>("select current_setting('server_version_num') as v")).rows[0]!.v) / 10_000));
}

export interface ReplicaOptions {
  /** The major version to run (default: the test run's server's). */
  major?: number;
  /** The application database created and migrated on the primary. */
  database?: string;
  /** hot_standby_feedback on the replica (Postgres's default: off). */
  hotStandbyFeedback?: boolean;
  /** max_standby_streaming_delay on the replica, ms (Postgres's default: 30 s). */
  maxStandbyStreamingDelayMs?: number;
  /** How the replica is made: `basebackup` (pg_basebackup -R) when the version has it, else `backup-api`. */
  method?: 'basebackup' | 'backup-api';
  /**
   * Where both clusters live (default: a new folder under the system's temp
   * folder, removed at the end). Given, the folder is kept, and a pair found
   * in it is started again as it was (its ports too: the replica's
   * primary_conninfo names the primary's), which is how bench:pages keeps
   * its seeded primary between runs.
   */
  dir?: string;
}

export interface ReplicaPair {
  readonly major: number;
  readonly method: 'basebackup' | 'backup-api';
  /** The migrated application database on the primary, and the same on the replica. */
  readonly primaryUrl: string;
  readonly replicaUrl: string;
  /** The postgres database of each (the replica's: read-only). */
  readonly primaryAdminUrl: string;
  readonly replicaAdminUrl: string;
  /** Until the primary's current WAL position is replayed on the replica. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** pg_wal_replay_pause()/resume() on the replica: its lag then grows with every write, deterministically. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  stopReplica(): Promise<void>;
  startReplica(): Promise<void>;
  /** Both servers' logs so far, for a failure message. */
  logs(): Promise<string>;
  close(): Promise<void>;
}

/** For tap's `skip`: why no replica pair can be made here, or false. */
export async function replicaPairMissing(major?: number): Promise<string | false> {
  const wanted = major ?? (await testServerMajor());
  const binaries = await binariesFor(wanted, await serverUser());
  return binaries ? false : `no PostgreSQL ${wanted} binaries to start a primary and a replica with (Debian's postgresql-${wanted}, or the embedded package at that version)`;
}

/** startReplicaPair for a tap test: stopped and removed at teardown. */
export async function startReplicaPair(t: Test, options: ReplicaOptions = {}): Promise<ReplicaPair> {
  const pair = await launchReplicaPair(options);
  t.teardown(() => pair.close());
  return pair;
}

/**
 * A primary and a physical streaming replica of the same major version as
 * the test run's server, made for the test: a small cluster from initdb
 * (seconds), not a copy of the run's own server, which other test files
 * share and whose WAL settings are not ours to change. The replica is a base
 * backup of it through a physical replication slot (the primary keeps the
 * WAL the replica still needs): `pg_basebackup -R` where the version has it
 * (Debian's), else PostgreSQL's low-level backup API (the embedded package
 * ships no pg_basebackup, and Debian 15's cannot copy an 18 server).
 * Both run as the postgres user when the tests run as root, on free ports of
 * 127.0.0.1, with trust authentication: they are reachable from this machine
 * only, and live for one test file.
 */
export async function launchReplicaPair(options: ReplicaOptions = {}): Promise<ReplicaPair> {
  const major = options.major ?? (await testServerMajor());
  const user = await serverUser();
  const binaries = await binariesFor(major, user);
  if (!binaries) throw new Error((await replicaPairMissing(major)) || 'no binaries');
  const method = options.method ?? (binaries.basebackup ? 'basebackup' : 'backup-api');
  if (method === 'basebackup' && !binaries.basebackup) throw new Error(`PostgreSQL ${major} here has no pg_basebackup`);
  const ownDir = options.dir === undefined;
  const base = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'tanktop-replica-')));
  await mkdir(base, { recursive: true });
  if (user.uid !== undefined) await chown(base, user.uid, user.gid!);
  const primaryDir = path.join(base, 'primary');
  const replicaDir = path.join(base, 'replica');
  const stateFile = path.join(base, 'pair.json');
  const previous = existsSync(stateFile) ? JSON.parse(await readFile(stateFile, 'utf8')) as { primaryPort: number; replicaPort: number; method: typeof method } : undefined;
  const [primaryPort, replicaPort] = previous ? [previous.primaryPort, previous.replicaPort] : [await freePort(), await freePort()];
  const database = options.database ?? 'tanktop';
  const as = (program: string, args: string[]) =>
    run(path.join(binaries.bin, program), args, { ...asServerUser(user), env: { ...process.env, LC_MESSAGES: 'C', PGHOST: base } });
  const pgCtl = (dir: string, port: number, action: 'start' | 'stop', mode = 'fast') => action === 'start'
    ? as('pg_ctl', ['start', '-D', dir, '-w', '-t', '60', '-l', `${dir}.log`, '-o', `-p ${port}`])
    : as('pg_ctl', ['stop', '-D', dir, '-w', '-t', '60', '-m', mode]).catch(() => {});
  const url = (port: number, db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;

  const close = async () => {
    // A kept pair is stopped cleanly: it starts again without recovery.
    await pgCtl(replicaDir, replicaPort, 'stop', ownDir ? 'immediate' : 'fast');
    await pgCtl(primaryDir, primaryPort, 'stop', ownDir ? 'immediate' : 'fast');
    if (ownDir) await rm(base, { recursive: true, force: true });
  };
  const replicaSettings = () => appendFile(path.join(replicaDir, 'postgresql.auto.conf'), [
    // Appended on every start of a kept pair: the last line of a setting wins.
    `hot_standby_feedback = ${options.hotStandbyFeedback ? 'on' : 'off'}`,
    `max_standby_streaming_delay = ${options.maxStandbyStreamingDelayMs ?? 30_000}ms`,
    // The replica's own reports come sooner than the default 10 s: its feedback reaches the primary's vacuum quickly.
    'wal_receiver_status_interval = 1s', '',
  ].join('\n'));
  try {
    if (previous) {
      await replicaSettings();
      await pgCtl(primaryDir, primaryPort, 'start');
      await pgCtl(replicaDir, replicaPort, 'start');
      return pairHandle(previous.method);
    }
    await as('initdb', ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '-N']);
    // Copied into the replica with the rest: settings both need. fsync off: a test cluster is thrown away, never recovered.
    await appendFile(path.join(primaryDir, 'postgresql.conf'), [
      '', "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${base}'`, 'wal_level = replica', 'max_wal_senders = 4',
      'max_replication_slots = 4', 'hot_standby = on', 'fsync = off', 'shared_buffers = 32MB', 'max_connections = 60',
      // Replicas are told apart from the primary in pg_stat_activity and the logs.
      "log_line_prefix = '%m [%p] '", '',
    ].join('\n'));
    await pgCtl(primaryDir, primaryPort, 'start');
    await withClient(url(primaryPort, 'postgres'), (client) => client.query(`create database ${client.escapeIdentifier(database)}`));
    await migrate(url(primaryPort, database), 'up', quiet);

    await withClient(url(primaryPort, 'postgres'), (client) => client.query(`select pg_create_physical_replication_slot('tanktop_replica', true)`));
    if (method === 'basebackup') {
      await run(binaries.basebackup!, ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '-S', 'tanktop_replica', '-c', 'fast', '--no-sync'],
        { ...asServerUser(user), env: { ...process.env, LC_MESSAGES: 'C' } });
    } else {
      await lowLevelBackup(url(primaryPort, 'postgres'), primaryDir, replicaDir, user);
      await writeFile(path.join(replicaDir, 'standby.signal'), '');
      await appendFile(path.join(replicaDir, 'postgresql.auto.conf'),
        `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres application_name=tanktop_replica'\nprimary_slot_name = 'tanktop_replica'\n`);
    }
    await replicaSettings();
    if (user.uid !== undefined) await run('chown', ['-R', `${user.uid}:${user.gid}`, replicaDir]);
    await pgCtl(replicaDir, replicaPort, 'start');
    if (!ownDir) await writeFile(stateFile, JSON.stringify({ primaryPort, replicaPort, method }));
    return pairHandle(method);
  } catch (error) {
    const logs = await readLogs(primaryDir, replicaDir);
    await close();
    throw new Error(`could not start a PostgreSQL ${major} primary and replica (${method}): ${(error as Error).message}\n${logs}`);
  }

  function pairHandle(method: 'basebackup' | 'backup-api'): ReplicaPair {
    const replicaAdminUrl = url(replicaPort, 'postgres');
    const primaryAdminUrl = url(primaryPort, 'postgres');
    const onReplica = (text: string) => withClient(replicaAdminUrl, (client) => client.query(text)).then(() => {});
    return {
      major, method,
      primaryUrl: urlWithDatabase(primaryAdminUrl, database),
      replicaUrl: urlWithDatabase(replicaAdminUrl, database),
      primaryAdminUrl, replicaAdminUrl,
      async waitForReplay(timeoutMs = 20_000) {
        const target = await withClient(primaryAdminUrl, async (client) => (await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn);
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const done = await withClient(replicaAdminUrl, async (client) =>
            (await client.query<{ done: boolean }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as done', [target])).rows[0]!.done).catch(() => false);
          if (done) return;
          if (Date.now() > deadline) throw new Error(`the replica has not replayed up to ${target} after ${timeoutMs} ms`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      pauseReplay: () => onReplica('select pg_wal_replay_pause()'),
      resumeReplay: () => onReplica('select pg_wal_replay_resume()'),
      stopReplica: () => pgCtl(replicaDir, replicaPort, 'stop', 'fast').then(() => {}),
      async startReplica() {
        // Idempotent, for teardowns: pg_ctl status exits 0 while the server runs.
        if (await as('pg_ctl', ['status', '-D', replicaDir]).then(() => true, () => false)) return;
        await pgCtl(replicaDir, replicaPort, 'start');
      },
      logs: () => readLogs(primaryDir, replicaDir),
      close,
    };
  }
}

/**
 * The replica's files by PostgreSQL's low-level backup API: pg_backup_start
 * in a session kept open, a copy of the data folder while the primary keeps
 * running, pg_backup_stop in the same session, whose label file becomes the
 * copy's backup_label (it tells the replica where replay must start). The
 * WAL itself is not copied: the replica streams it through the slot.
 */
async function lowLevelBackup(adminUrl: string, from: string, to: string, user: ServerUser): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`select pg_backup_start('tanktop-test-replica', true)`);
    await copyDataDir(from, to);
    const { rows } = await client.query<{ labelfile: string; spcmapfile: string | null }>('select labelfile, spcmapfile from pg_backup_stop(true)');
    await writeFile(path.join(to, 'backup_label'), rows[0]!.labelfile);
    if (rows[0]!.spcmapfile) await writeFile(path.join(to, 'tablespace_map'), rows[0]!.spcmapfile);
  } finally {
    await client.end().catch(() => {});
  }
  if (user.uid !== undefined) await chown(to, user.uid, user.gid!);
}

/** Folders whose contents a base backup leaves out (the server recreates or streams them), per PostgreSQL's backup docs. */
const EMPTY_IN_COPY = new Set(['pg_wal', 'pg_replslot', 'pg_stat_tmp', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans']);
const LEFT_OUT = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map']);

/** A copy of a running server's folder: files that vanish while it is copied (temporary ones) are skipped, as the API allows. */
async function copyDataDir(from: string, to: string, top = true): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  let entries;
  try {
    entries = await readdir(from, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    if (top && LEFT_OUT.has(entry.name)) continue;
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (top && EMPTY_IN_COPY.has(entry.name)) await mkdir(target, { mode: 0o700 });
      else await copyDataDir(source, target, false);
    } else if (entry.isFile()) {
      await copyFile(source, target).catch((error: NodeJS.ErrnoException) => { if (error.code !== 'ENOENT') throw error; });
    }
  }
}

async function readLogs(...dirs: string[]): Promise<string> {
  const parts = await Promise.all(dirs.map(async (dir) => `--- ${path.basename(dir)}.log\n${(await readFile(`${dir}.log`, 'utf8').catch(() => '(none)')).slice(-4000)}`));
  return parts.join('\n');
}
