import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { DatabaseUnavailableError } from './connection-check.ts';

const run = promisify(execFile);

/**
 * The user the embedded server runs as. Postgres refuses to run as root, so as
 * root it is the `postgres` system user (created when missing); otherwise the
 * current user. uid/gid are set only when they differ from ours, and are what
 * child_process takes to switch user.
 */
export interface ServerUser {
  readonly name: string;
  readonly uid?: number;
  readonly gid?: number;
}

export async function serverUser(): Promise<ServerUser> {
  const me = os.userInfo();
  if (me.uid !== 0) return { name: me.username };
  let ids = await userIds('postgres');
  if (!ids) {
    try {
      await run('groupadd', ['--force', '--system', 'postgres']);
      await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    } catch (error) {
      throw new DatabaseUnavailableError(
        `Postgres refuses to run as root and there is no postgres system user to run it as, and creating one failed (${firstLine(error)}); ` +
          'create it (useradd --system postgres), run as another user, or set DATABASE_URL to use an existing Postgres',
      );
    }
    ids = await userIds('postgres');
    if (!ids) throw new DatabaseUnavailableError('the postgres system user was created but cannot be found (id postgres): check /etc/passwd, or set DATABASE_URL');
  }
  return { name: 'postgres', ...ids };
}

async function userIds(name: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const uid = Number((await run('id', ['-u', name])).stdout.trim());
    const gid = Number((await run('id', ['-g', name])).stdout.trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** Options that make a child process run as the server's user, from a folder every user can enter. */
export function asServerUser(user: ServerUser) {
  return { uid: user.uid, gid: user.gid, cwd: '/' };
}

/**
 * Whether the server's user passes `test <flag> target` (-x: can enter that
 * folder, so every folder on the way too; -w: can write; -O: owns it). Asked
 * of the system as that user, so ACLs and groups count as they will for
 * Postgres.
 */
export async function userPasses(user: ServerUser, flag: '-x' | '-w' | '-r' | '-O', target: string): Promise<boolean> {
  try {
    await run('test', [flag, target], asServerUser(user));
    return true;
  } catch {
    return false;
  }
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim();
}
