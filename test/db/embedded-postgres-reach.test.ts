/**
 * `make start` and `make test` work wherever a user clones (issue 14): each
 * case runs a real entry point (the migrate CLI, src/server.ts, test/run.ts)
 * as its own process against the embedded Postgres, and looks at its exit
 * code, its words and where the data went.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { relocatedDataDir } from '../../src/db/embedded-postgres-data-dir.ts';
import { freePort } from '../helpers/free-port.ts';
import { copyProject, projectRoot, runIn, type RunResult } from '../helpers/project-copy.ts';

const isRoot = os.userInfo().uid === 0;
const notRoot = isRoot ? false : 'needs root: only root runs Postgres as another user (postgres), who may not reach the clone';
const canMount = isRoot && hasUnshare() ? false : 'needs root and unshare(1) to mount node_modules read-only for one process';

/** Open to every user (a private 0700 folder is made inside it where a case wants one). */
const base = await mkdtemp('/var/tmp/tanktop-reach-');
await chmod(base, 0o755);
t.teardown(() => rm(base, { recursive: true, force: true }));

function hasUnshare(): boolean {
  try {
    execFileSync('unshare', ['--mount', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A clone inside a fresh `mktemp -d` (mode 0700, as root's home is). */
async function privateClone(t: Test): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'tanktop-private-'));
  t.teardown(async () => {
    await rm(path.dirname(relocatedDataDir(path.join(folder, 'clone', '.data', 'postgres'))), { recursive: true, force: true });
    await rm(folder, { recursive: true, force: true });
  });
  t.equal(statSync(folder).mode & 0o777, 0o700, 'the folder is private');
  return copyProject(path.join(folder, 'clone'));
}

function ownerName(file: string): string {
  return execFileSync('stat', ['-c', '%U', file], { encoding: 'utf8' }).trim();
}

/** Exactly one line on stderr, starting with the command's name, and no stack trace. */
function saysOneSentence(t: Test, result: RunResult, prefix: string, pattern: RegExp): void {
  t.equal(result.code, 3, `exit code 3 (stderr: ${result.stderr})`);
  const lines = result.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, 'one line on stderr');
  t.match(lines[0], new RegExp(`^${prefix}: `), 'named after the command');
  t.match(lines[0], pattern);
  t.notMatch(result.stderr, /^\s+at /m, 'no stack trace');
}

const migrateUp = (dir: string, env: Record<string, string>, options = {}) => runIn(dir, 'src/cli/migrate.ts', ['up'], env, options);

t.test('as root, a clone in a 0700 folder works: binaries copied once where postgres can run them (two runs at once), data under /var/lib/tanktop, and found again next time', { skip: notRoot }, async (t) => {
  const clone = await privateClone(t);
  const cacheDir = path.join(base, 'cache-private');
  const elsewhere = path.join(base, 'elsewhere', 'pg');
  const [first, second] = await Promise.all([
    migrateUp(clone, { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_CACHE_DIR: cacheDir }),
    migrateUp(clone, { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_CACHE_DIR: cacheDir, EMBEDDED_PG_DATA_DIR: elsewhere }),
  ]);
  t.equal(first.code, 0, `the default data directory: ${first.stderr}`);
  t.equal(second.code, 0, `a data directory of its own, at the same time: ${second.stderr}`);
  t.equal(first.stderr, '', 'nothing on stderr');

  const copies = await readdir(cacheDir);
  t.same(copies.filter((name) => name.startsWith('embedded-postgres-')).length, 1, `one whole copy, no partial ones left (${copies.join(', ')})`);
  const copy = path.join(cacheDir, copies[0]!);
  t.equal(ownerName(copy), 'root', 'the copy is root\'s (Postgres runs it, never writes it)');
  t.equal(statSync(path.join(copy, 'bin', 'postgres')).mode & 0o777, 0o755, 'and runnable by all');

  const relocated = relocatedDataDir(path.join(clone, '.data', 'postgres'));
  t.ok(existsSync(path.join(relocated, 'PG_VERSION')), `the cluster is in ${relocated}`);
  t.equal(ownerName(relocated), 'postgres', 'owned by the postgres user');
  t.notOk(existsSync(path.join(clone, '.data', 'postgres')), 'not in the clone');
  t.ok(existsSync(path.join(elsewhere, 'PG_VERSION')), 'EMBEDDED_PG_DATA_DIR was used as it is');

  const again = await runIn(clone, 'src/cli/migrate.ts', ['status'], { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_CACHE_DIR: cacheDir });
  t.equal(again.code, 0, `the next run: ${again.stderr}`);
  t.match(again.stdout, /up to date/, 'finds the migrated cluster again');
});

t.test('as root, a read-only node_modules in a private folder works (nothing is written into it)', { skip: canMount }, async (t) => {
  const clone = await privateClone(t);
  const result = await migrateUp(clone, {
    EMBEDDED_PG_PORT: String(await freePort()),
    EMBEDDED_PG_CACHE_DIR: path.join(base, 'cache-read-only'),
    EMBEDDED_PG_DATA_DIR: path.join(base, 'read-only', 'pg'),
  }, { readOnly: [path.join(clone, 'node_modules'), path.join(projectRoot, 'node_modules')] });
  t.equal(result.code, 0, `migrated: ${result.stderr}`);
  t.ok(existsSync(path.join(base, 'read-only', 'pg', 'PG_VERSION')));
});

t.test('a clone in a path with spaces works (its data in the clone, reached over TCP)', async (t) => {
  const clone = await copyProject(path.join(base, 'my clone'));
  const result = await migrateUp(clone, { EMBEDDED_PG_PORT: String(await freePort()) });
  t.equal(result.code, 0, `migrated: ${result.stderr}`);
  t.ok(existsSync(path.join(clone, '.data', 'postgres', 'PG_VERSION')), 'the default data directory in the clone');
});

const otherDisk = '/dev/shm';
const noOtherDisk = existsSync(otherDisk) && statSync(otherDisk).dev !== statSync(projectRoot).dev ? false : `${otherDisk} is not another file system here`;

t.test('EMBEDDED_PG_DATA_DIR on another file system is used', { skip: noOtherDisk }, async (t) => {
  const other = otherDisk;
  const folder = await mkdtemp(path.join(other, 'tanktop-reach-'));
  await chmod(folder, 0o755);
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const dataDir = path.join(folder, 'pg');
  const result = await migrateUp(projectRoot, { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_DATA_DIR: dataDir });
  t.equal(result.code, 0, `migrated: ${result.stderr}`);
  t.ok(existsSync(path.join(dataDir, 'PG_VERSION')), `the cluster is in ${dataDir}`);
});

t.test('a data directory that cannot be created is one sentence and exit 3, from make start, make test and the CLIs', async (t) => {
  const file = path.join(base, 'a-file');
  await writeFile(file, '');
  const env = { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_DATA_DIR: path.join(file, 'pg') };
  const sentence = /could not create the folder of the embedded Postgres data, .*a-file .*; point EMBEDDED_PG_DATA_DIR at a folder you can write, or set DATABASE_URL/;
  saysOneSentence(t, await runIn(projectRoot, 'src/server.ts', [], env), 'tanktop', sentence);
  saysOneSentence(t, await runIn(projectRoot, 'test/run.ts', [], env), 'tanktop', sentence);
  saysOneSentence(t, await migrateUp(projectRoot, env), 'migrate', sentence);
});

t.test('a data directory that initdb refuses (a folder with something in it) is one sentence, and what was there stays', async (t) => {
  const dataDir = path.join(base, 'not-empty');
  await mkdir(dataDir);
  await writeFile(path.join(dataDir, 'notes.txt'), 'mine');
  if (isRoot) execFileSync('chown', ['-R', 'postgres:', dataDir]);
  const result = await migrateUp(projectRoot, { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_DATA_DIR: dataDir });
  saysOneSentence(t, result, 'migrate', /could not create the embedded Postgres cluster in .*not-empty \(.*not empty.*\); .*point EMBEDDED_PG_DATA_DIR at an empty folder/);
  t.ok(existsSync(path.join(dataDir, 'notes.txt')), 'the folder and its file are kept');
});

t.test('as root, EMBEDDED_PG_DATA_DIR in a private folder is refused with a sentence saying so', { skip: notRoot }, async (t) => {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'tanktop-private-'));
  t.teardown(() => rm(folder, { recursive: true, force: true }));
  const result = await migrateUp(projectRoot, { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_DATA_DIR: path.join(folder, 'pg') });
  saysOneSentence(t, result, 'migrate', /the postgres user that runs the embedded Postgres cannot reach .*tanktop-private-.* point EMBEDDED_PG_DATA_DIR at a folder every user can enter/);
});
