import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { runProcess, type CommandResult } from '../helpers/run-command.ts';

/**
 * A newcomer copies commands from the README: each must exist. `make help`
 * lists every target, and every command answers --help.
 */

const root = path.resolve(import.meta.dirname, '../..');
const makefile = await readFile(path.join(root, 'Makefile'), 'utf8');
const scripts = (JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const documents = ['README.md', ...(await readdir(path.join(root, 'docs'))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** The Makefile's targets, as `name:` at the start of a line (not variables, not files such as node_modules/.installed). */
const targets = [...makefile.matchAll(/^([a-z][a-z0-9-]*):(?!=)/gm)].map((match) => match[1]!);

/** Code as a reader copies it: fenced blocks and inline code spans. */
function code(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```[ \t]*$/gm)].map((match) => match[1]!);
  const rest = markdown.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, '');
  return [...fenced, ...[...rest.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!)];
}

/** `make X` and `npm run X` in a document's code, with where they are. */
async function commandsIn(file: string): Promise<{ make: string[]; npm: string[] }> {
  const snippets = code(await readFile(path.join(root, file), 'utf8'));
  const make = snippets.flatMap((text) => [...text.matchAll(/(?:^|[\s;&|(])make ([a-z][a-z0-9-]*)/g)].map((match) => match[1]!));
  const npm = snippets.flatMap((text) => [...text.matchAll(/\bnpm run ([a-z][\w:.-]*[\w])/g)].map((match) => match[1]!));
  return { make, npm };
}

t.test('every make target and npm script named in the README exists', async (t) => {
  const { make, npm } = await commandsIn('README.md');
  t.ok(make.includes('start') && make.includes('test'), 'the two commands are there');
  t.same([...new Set(make)].filter((target) => !targets.includes(target)), [], 'make targets the Makefile lacks');
  t.same([...new Set(npm)].filter((script) => !(script in scripts)), [], 'npm scripts package.json lacks');
});

t.test('every make target and npm script named in docs/ exists', async (t) => {
  const missing: string[] = [];
  for (const file of documents.filter((name) => name !== 'README.md')) {
    const { make, npm } = await commandsIn(file);
    for (const target of make) if (!targets.includes(target)) missing.push(`${file}: make ${target}`);
    for (const script of npm) if (!(script in scripts)) missing.push(`${file}: npm run ${script}`);
  }
  t.same([...new Set(missing)], [], 'commands that do not exist');
});

t.test('the Makefile\'s targets call npm scripts that exist', async (t) => {
  const called = [...makefile.matchAll(/^\tnpm run ([\w:.-]+)/gm)].map((match) => match[1]!);
  t.ok(called.length > 5);
  t.same(called.filter((script) => !(script in scripts)), []);
});

t.test('make help lists every target of the Makefile, one line each', { skip: existsSync('/usr/bin/make') ? false : 'no make' }, async (t) => {
  const { stdout } = await promisify(execFile)('make', ['--no-print-directory', '-s', 'help'], { cwd: root });
  const lines = stdout.trimEnd().split('\n');
  for (const target of targets) {
    const listed = lines.filter((line) => line.startsWith(`make ${target} `));
    t.equal(listed.length, 1, `make ${target}`);
  }
  t.equal(lines.length, targets.length, 'and nothing else');
  for (const line of lines) t.match(line, /^make [a-z-]+ +\S.{10,}$/, 'a target and what it does');
});

/** Runs a command's file with --help as npm would (its own Node), and no database to reach. */
function help(file: string): Promise<CommandResult> {
  return runProcess(process.execPath, [path.join(root, file), '--help'], {
    cwd: root, env: { LOG_LEVEL: '', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, timeoutMs: 30_000,
  });
}

async function commandFiles(): Promise<string[]> {
  const cli = (await readdir(path.join(root, 'src/cli'))).filter((name) => name.endsWith('.ts')).map((name) => `src/cli/${name}`);
  const sandboxes = (await readdir(path.join(root, 'src/sandboxes'))).map((name) => `src/sandboxes/${name}/cli.ts`);
  const files: string[] = [];
  // Only the files that run a command (src/cli/cli.ts and its helpers are libraries).
  for (const file of [...cli, ...sandboxes]) {
    if (existsSync(path.join(root, file)) && /^await runCommand\(/m.test(await readFile(path.join(root, file), 'utf8'))) files.push(file);
  }
  return files;
}

const files = await commandFiles();

t.test('the commands are found', async (t) => {
  t.same(files.filter((file) => file.startsWith('src/cli/')).sort(), ['src/cli/migrate.ts', 'src/cli/seed.ts', 'src/cli/stats.ts', 'src/cli/user.ts']);
  t.equal(files.filter((file) => file.startsWith('src/sandboxes/')).length, 4, 'one CLI per sandbox');
});

for (const file of files) {
  t.test(`${file} answers --help with exit code 0 and its usage, naming the npm script that runs it`, async (t) => {
    const result = await help(file);
    t.equal(result.code, 0, result.stderr);
    t.equal(result.stderr, '', 'nothing on stderr');
    const script = /^Usage: npm run ([\w:.-]+)/.exec(result.stdout)?.[1];
    t.ok(script, 'starts with "Usage: npm run …"');
    t.match(scripts[script ?? ''] ?? '', file, `npm run ${script} runs ${file}`);
    t.match(result.stdout, /-h, --help/, 'and lists --help among its options');
  });
}
