import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { planAlertSandbox, planDevSandboxes, planSupplierSandbox } from '../../src/dev-sandboxes.ts';

/**
 * docs/configuration.md is the configuration reference: one table row per
 * setting. A variable the code reads, or one `.env.example` offers, without
 * a row there is a setting nobody can find.
 */

const root = path.resolve(import.meta.dirname, '../..');
const REFERENCE = 'docs/configuration.md';
const reference = await readFile(path.join(root, REFERENCE), 'utf8');

/** The variables named in the first cell of the reference's table rows. */
function documented(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const first = line.split(/(?<!\\)\|/)[1] ?? '';
    for (const [, name] of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.add(name!);
  }
  return names;
}

/** The keys a function reads from the environment it is given, watched as it reads an empty one. */
function keysRead(read: (env: NodeJS.ProcessEnv) => unknown): string[] {
  const keys = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get(target, key) {
      if (typeof key === 'string') keys.add(key);
      return undefined;
    },
  });
  read(env);
  return [...keys];
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

/** Variables named in source as `env.NAME`, `env['NAME']` or a reader's `(env, 'NAME'` argument. */
async function namedInSource(dirs: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const dir of dirs) {
    for (const file of await sourceFiles(dir)) {
      const text = await readFile(path.join(root, file), 'utf8');
      const patterns = [/\benv\.([A-Z][A-Z0-9_]*)\b/g, /\benv\[['"]([A-Z][A-Z0-9_]*)['"]\]/g, /\(env, '([A-Z][A-Z0-9_]*)'/g];
      for (const pattern of patterns) for (const [, name] of text.matchAll(pattern)) if (!found.has(name!)) found.set(name!, file);
    }
  }
  return found;
}

const names = documented(reference);
const missing = (keys: Iterable<string>) => [...keys].filter((key) => !names.has(key)).sort();

t.test('the reference is tables of settings, each named once', async (t) => {
  t.ok(names.size > 40, `${names.size} settings documented`);
  const rows = reference.split('\n').filter((line) => /^\|\s*`[A-Z]/.test(line));
  const seen = rows.flatMap((row) => [...(row.split(/(?<!\\)\|/)[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!));
  t.same(seen.filter((name, i) => seen.indexOf(name) !== i), [], 'no setting has two rows');
});

t.test(`every variable loadConfig reads has a row in ${REFERENCE}`, async (t) => {
  const keys = keysRead(loadConfig);
  t.ok(keys.includes('DATABASE_URL') && keys.includes('SUPPLIER_POLL_AFTER_MINUTES'), `loadConfig read ${keys.length} variables`);
  t.same(missing(keys), [], `add a row to ${REFERENCE} for each (name, default, meaning)`);
});

t.test(`every variable the development sandboxes read has a row in ${REFERENCE}`, async (t) => {
  const keys = [...keysRead(planDevSandboxes), ...keysRead(planAlertSandbox), ...keysRead(planSupplierSandbox)];
  t.ok(keys.includes('DEV_SANDBOXES') && keys.includes('SUPPLIER_SANDBOX_PORT'), `the plans read ${new Set(keys).size} variables`);
  t.same(missing(keys), [], `add a row to ${REFERENCE} for each`);
});

t.test(`every variable named in src/ (the sandbox CLIs read process.env themselves) has a row in ${REFERENCE}`, async (t) => {
  const found = await namedInSource(['src']);
  t.ok(found.has('SUPPLIER_SANDBOX_SPEED'), `${found.size} variables named in src/`);
  t.same(missing(found.keys()).map((name) => `${name} (${found.get(name)})`), [], `add a row to ${REFERENCE} for each`);
});

t.test(`every key of .env.example has a row in ${REFERENCE}`, async (t) => {
  const example = await readFile(path.join(root, '.env.example'), 'utf8');
  const keys = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!);
  t.ok(keys.length > 30, `${keys.length} keys in .env.example`);
  t.same(missing(keys), [], `add a row to ${REFERENCE} for each`);
});

t.test(`every setting in ${REFERENCE} is one something reads`, async (t) => {
  const read = new Set([
    ...keysRead(loadConfig), ...keysRead(planDevSandboxes), ...keysRead(planAlertSandbox), ...keysRead(planSupplierSandbox),
    ...(await namedInSource(['src', 'bench', 'test'])).keys(),
  ]);
  t.same([...names].filter((name) => !read.has(name)).sort(), [], 'a row for a variable nothing reads: remove it, or fix its name');
});

t.test('a setting added to the code without a row is caught', async (t) => {
  const keys = keysRead((env) => [loadConfig(env), env.TANKTOP_NEW_SETTING]);
  t.same(missing(keys), ['TANKTOP_NEW_SETTING']);
});
