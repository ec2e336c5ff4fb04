import { spawn, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { freePort } from './free-port.ts';

/** Where Debian's package puts it (/usr/sbin is not on every PATH), else the PATH's. */
const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

export function pgbouncerBinary(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, 'pgbouncer'));
  return [...CANDIDATES, ...onPath].find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** For tap's `skip`: the reason the PgBouncer tests cannot run here, or false. */
export function pgbouncerMissing(): string | false {
  return pgbouncerBinary() ? false : 'pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)';
}

export interface PgBouncer {
  /** A URL for one database of the target server, through the pooler. */
  url(database: string): string;
  readonly port: number;
  /** What PgBouncer printed so far (its log goes to stderr). */
  log(): string;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The server behind it: a superuser URL (its host's TCP port is used, not a Unix socket). */
  serverUrl: string;
  poolMode?: 'session' | 'transaction';
  /** Server connections per database and user: small, so clients really share them. */
  poolSize?: number;
}

/**
 * A PgBouncer of the test's own, in front of the test server: a pgbouncer.ini
 * and userlist in a temporary folder, a free port on 127.0.0.1, every
 * database of the server reachable (`*`) as the server URL's user, clients
 * let in without a password (auth_type trust). Run as the postgres system
 * user when the tests run as root (PgBouncer refuses root). Stopped and its
 * folder removed at teardown.
 */
export async function startPgBouncer(t: Test, options: PgBouncerOptions): Promise<PgBouncer> {
  const bouncer = await launchPgBouncer(options);
  t.teardown(() => bouncer.stop());
  return bouncer;
}

/** startPgBouncer without tap (bench:pages --via-pgbouncer): the caller stops it. */
export async function launchPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed');
  const server = new URL(options.serverUrl);
  const user = decodeURIComponent(server.username) || 'postgres';
  const password = decodeURIComponent(server.password);
  // A Unix socket (`?host=/dir`) may sit in a folder PgBouncer's user cannot enter: the server listens on TCP too.
  const serverHost = server.hostname || '127.0.0.1';
  const serverPort = server.port || '5432';
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tanktop-pgbouncer-'));
  const runAs = systemUser();
  const connection = [`host=${serverHost}`, `port=${serverPort}`, `user=${user}`, ...(password ? [`password=${password}`] : [])].join(' ');
  await writeFile(path.join(dir, 'userlist.txt'), `"${user}" ""\n`);
  await writeFile(path.join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `* = ${connection}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'userlist.txt')}`,
    `pool_mode = ${options.poolMode ?? 'transaction'}`,
    `default_pool_size = ${options.poolSize ?? 2}`,
    'max_client_conn = 500',
    // Test databases are dropped WITH (FORCE) at teardown: idle server connections must not linger long.
    'server_idle_timeout = 5',
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n'));
  if (runAs.uid !== undefined) await chown(dir, runAs.uid, runAs.gid!);

  const child = spawn(binary, [path.join(dir, 'pgbouncer.ini')], { ...runAs, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => { log = (log + chunk.toString()).slice(-20_000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // immediate shutdown
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  await waitUntilListening(port, exited, () => log).catch(async (error: unknown) => {
    await stop();
    throw error;
  });

  return {
    port,
    url: (database) => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    log: () => log,
    stop,
  };
}

function systemUser(): { uid?: number; gid?: number } {
  if (os.userInfo().uid !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function waitUntilListening(port: number, exited: Promise<void>, log: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => { gone = true; });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (gone) throw new Error(`pgbouncer exited at start: ${log()}`);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer is not listening on ${port} after 10 s: ${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
