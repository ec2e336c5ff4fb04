import { parseArgs, type ParseArgsConfig } from 'node:util';
import type pg from 'pg';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { DatabaseUnavailableError } from '../db/connection-check.ts';
import { describeDatabaseError } from '../db/database-errors.ts';
import { createDb, type Db } from '../db/kysely.ts';
import { openDatabase } from '../db/open-database.ts';
import { createPool } from '../db/pool.ts';
import { createLogger, type Logger } from '../logger.ts';

/** Exit codes shared by every command (also in docs/cli.md). */
export const ExitCode = Object.freeze({
  ok: 0,
  /** The command ran and found a problem (verify: differences), or the database refused the request. */
  failure: 1,
  /** Bad arguments. */
  usage: 2,
  /** Bad configuration, or the database cannot be reached. */
  unavailable: 3,
});

export class UsageError extends Error {}

/** A failure the command explains itself; printed as one line. */
export class CommandError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses argv; prints usage and returns undefined for --help. Unknown options
 * and a wrong number of positionals are usage errors.
 */
export function parseCommandLine<T extends Options>(argv: string[], options: T, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage.trimStart());
    return undefined;
  }
  return parsed;
}

export interface CommandContext {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Db;
  url: string;
}

/** Opens the database (embedded or DATABASE_URL) around `work` and closes it after. */
export async function withDatabase<T>(work: (context: CommandContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // A command's own output says what happened; its logs speak up only for problems unless LOG_LEVEL asks for more.
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn');
  const database = await openDatabase(config, log);
  const pool = createPool(database.url, log, { max: 4 });
  const db = createDb(pool, { pooling: config.databasePooling });
  try {
    return await work({ config, log, pool, db, url: database.url });
  } finally {
    await db.destroy();
    if (!pool.ended) await pool.end();
    await database.close();
  }
}

/** Runs a command's main, turning every expected failure into one line on stderr and an exit code. */
export async function runCommand(name: string, usage: string, main: () => Promise<number | void>): Promise<void> {
  let code: number;
  try {
    code = (await main()) ?? ExitCode.ok;
  } catch (error) {
    code = reportFailure(name, usage, error);
  }
  process.exitCode = code;
}

function reportFailure(name: string, usage: string, error: unknown): number {
  const say = (message: string) => process.stderr.write(`${name}: ${message}\n`);
  if (error instanceof UsageError) {
    say(`${error.message}\n${usage.trimStart()}`);
    return ExitCode.usage;
  }
  if (error instanceof ConfigError || error instanceof DatabaseUnavailableError) {
    say(error.message);
    return ExitCode.unavailable;
  }
  if (error instanceof CommandError) {
    say(error.message);
    return ExitCode.failure;
  }
  const explained = describeDatabaseError(error);
  if (explained) {
    say(explained);
    return ExitCode.failure;
  }
  say(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
  return ExitCode.failure;
}
