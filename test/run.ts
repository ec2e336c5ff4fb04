/**
 * `npm test` / `make test`: starts (or joins) the database, migrates a template
 * database once, runs tap (each test file clones the template into a database
 * of its own), then prints the closing `N passed, N failed` line and cleans up.
 *
 * DATABASE_URL, when set, names the server to test against (any database on
 * it: the tests create and drop their own); otherwise the embedded Postgres.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { ConfigError, loadConfig } from '../src/config.ts';
import { DatabaseUnavailableError, describeTarget } from '../src/db/connection-check.ts';
import { migrate } from '../src/db/migrate.ts';
import { openDatabase, urlWithDatabase, type DatabaseHandle } from '../src/db/open-database.ts';
import { createLogger } from '../src/logger.ts';

/** The tail of tap's output, for the summary line. */
let tapOutputTail = '';

const config = startOrSay(loadConfig);
const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn');
const database: DatabaseHandle = await startOrSay(() => openDatabase(config, log));
const admin = new pg.Client({ connectionString: database.adminUrl });
admin.on('error', () => {});
await admin.connect();
const version = (await admin.query<{ server_version: string }>('show server_version')).rows[0]?.server_version;
process.stdout.write(`testing against PostgreSQL ${version} at ${describeTarget(database.adminUrl)}${config.databaseUrl ? '' : ' (embedded)'}\n`);

await dropLeftoversOfKilledRuns(admin);
const template = `tanktop_test_${process.pid}_template`;
await admin.query(`create database ${template}`);
let exitCode = 1;
try {
  await migrate(urlWithDatabase(database.adminUrl, template), 'up', log);
  exitCode = await runTap(process.argv.slice(2), {
    TANKTOP_TEST_ADMIN_URL: database.adminUrl,
    TANKTOP_TEST_TEMPLATE: template,
  });
  printSummary();
} finally {
  await admin.query(`drop database if exists ${template} with (force)`);
  await admin.end();
  await database.close();
}
process.exitCode = exitCode;

/** tap's raw TAP output, passed through and its tail kept for the summary. */
function runTap(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('tap', ['run', '--reporter=tap', ...args], { stdio: ['inherit', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      tapOutputTail = (tapOutputTail + chunk.toString('utf8')).slice(-4096);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** tap's closing line is not one CI reads: say it plainly, as `N passed, N failed`. */
function printSummary(): void {
  const totals = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, skip: (\d+))?/.exec(tapOutputTail);
  if (!totals) {
    process.stdout.write('0 passed, 1 failed\n');
    return;
  }
  const [, , pass = '0', fail = '0', skip] = totals;
  process.stdout.write(`${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}\n`);
}

/** Test databases are named tanktop_test_<pid>_…: drop those whose process is gone. */
async function dropLeftoversOfKilledRuns(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(`select datname from pg_database where datname like 'tanktop\\_test\\_%'`);
  for (const { datname } of rows) {
    const pid = Number(/^tanktop_test_(\d+)_/.exec(datname)?.[1]);
    if (!pid || isAlive(pid)) continue;
    await client.query(`drop database if exists ${client.escapeIdentifier(datname)} with (force)`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A bad setting or a database that cannot start is one sentence on stderr and
 * exit code 3, as for `make start`: there is nothing to test against.
 */
function startOrSay<T>(step: () => T): T {
  const say = (error: unknown): never => {
    if (!(error instanceof ConfigError || error instanceof DatabaseUnavailableError)) throw error;
    process.stderr.write(`tanktop: ${error.message}\n`);
    process.exit(3);
  };
  try {
    const result = step();
    return (result instanceof Promise ? result.catch(say) : result) as T;
  } catch (error) {
    return say(error);
  }
}
