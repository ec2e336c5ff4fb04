import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseUnavailableError } from './connection-check.ts';
import { firstLine, userPasses, type ServerUser } from './embedded-postgres-user.ts';

/** Where data directories go when the clone's .data/ is out of reach of the postgres user (as root). */
export const RELOCATED_DATA_ROOT = '/var/lib/tanktop';

/**
 * The data directory to use, its parent created.
 *
 * A folder the user named (EMBEDDED_PG_DATA_DIR) is used as it is, or refused
 * with a sentence. The default (.data/postgres in the clone) is used when the
 * server's user can reach it, and always when it already holds a cluster (a
 * user's data is never silently set aside). Otherwise (root, and a clone in a
 * private folder such as /root or a `mktemp -d`) the cluster lives in
 * relocatedDataDir(requested): one folder per clone under /var/lib/tanktop,
 * which the postgres user can reach.
 */
export async function chooseDataDir(requested: string, isDefault: boolean, user: ServerUser): Promise<string> {
  if (existsSync(path.join(requested, 'PG_VERSION'))) return usableCluster(requested, user, isDefault);
  if (isDefault) {
    const relocated = relocatedDataDir(requested);
    if (existsSync(path.join(relocated, 'PG_VERSION'))) return usableCluster(relocated, user, isDefault);
    await createParent(requested, isDefault);
    if (await userPasses(user, '-x', path.dirname(requested))) return requested;
    await createRelocatedParent(relocated, requested);
    return relocated;
  }
  await createParent(requested, isDefault);
  if (!(await userPasses(user, '-x', path.dirname(requested)))) {
    throw new DatabaseUnavailableError(
      `the ${user.name} user that runs the embedded Postgres cannot reach ${path.dirname(requested)} (a folder on the way is private to its owner), so EMBEDDED_PG_DATA_DIR=${requested} cannot be used; ` +
        `point EMBEDDED_PG_DATA_DIR at a folder every user can enter (such as ${RELOCATED_DATA_ROOT}/…), or unset it`,
    );
  }
  return requested;
}

/** The folder under /var/lib/tanktop for a data directory the postgres user cannot reach: named after that path, so each clone keeps its own. */
export function relocatedDataDir(requested: string): string {
  const key = createHash('sha256').update(path.resolve(requested)).digest('hex').slice(0, 16);
  return path.join(RELOCATED_DATA_ROOT, key, path.basename(requested));
}

/** An existing cluster is used only by the user who owns it: say so rather than let Postgres fail later. */
async function usableCluster(dataDir: string, user: ServerUser, isDefault: boolean): Promise<string> {
  if ((await userPasses(user, '-O', dataDir)) && (await userPasses(user, '-w', dataDir))) return dataDir;
  const setting = isDefault ? 'set EMBEDDED_PG_DATA_DIR to a new folder' : 'point EMBEDDED_PG_DATA_DIR at a new folder';
  throw new DatabaseUnavailableError(
    `the embedded Postgres data in ${dataDir} is out of reach of the ${user.name} user that runs the server (it must own that folder and reach it); ` +
      `give it back (chown -R ${user.name} ${dataDir}, and open the folders on the way to it), run as its owner, or ${setting} (a fresh, empty cluster)`,
  );
}

async function createParent(dataDir: string, isDefault: boolean): Promise<void> {
  try {
    await mkdir(path.dirname(dataDir), { recursive: true });
  } catch (error) {
    throw new DatabaseUnavailableError(
      `could not create the folder of the embedded Postgres data, ${path.dirname(dataDir)} (${firstLine(error)}); ` +
        `${isDefault ? 'set' : 'point'} EMBEDDED_PG_DATA_DIR at a folder you can write, or set DATABASE_URL to use an existing Postgres`,
    );
  }
}

async function createRelocatedParent(relocated: string, requested: string): Promise<void> {
  const parent = path.dirname(relocated);
  try {
    await mkdir(parent, { recursive: true });
    // Root's, open for entering: the postgres user owns only the data directory inside.
    await chmod(RELOCATED_DATA_ROOT, 0o755);
    await chmod(parent, 0o755);
    // For whoever finds it there: whose data it is.
    await writeFile(path.join(parent, 'origin'), `${requested}\n`);
  } catch (error) {
    throw new DatabaseUnavailableError(
      `${requested} is out of reach of the postgres user, and its replacement ${relocated} could not be made (${firstLine(error)}); ` +
        'set EMBEDDED_PG_DATA_DIR to a folder every user can enter, or DATABASE_URL to use an existing Postgres',
    );
  }
}
