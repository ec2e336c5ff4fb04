/**
 * `npm run bench:ingest`: what the rollup triggers cost the writers of sales.
 *
 * Two databases on one server, loaded with the same rows: a baseline (the
 * schema without the _500_* rollup triggers of the parent) and the real schema, with a
 * fold every second as the service runs it. Every case runs on the baseline,
 * then on the real database, in turn, so both see the same server, the same
 * neighbours and the same data. Progress goes to stderr; the results, a
 * Markdown table and notes, to stdout.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { describeTarget } from '../src/db/connection-check.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createLogger } from '../src/logger.ts';
import { runIngestCases } from './ingest/cases.ts';
import { createSides, dropDatabases, seedDimensions } from './ingest/databases.ts';
import { finalDifferences, measureMaintenance } from './ingest/maintenance.ts';
import { type BenchOptions, DATABASES, DIMENSIONS, type Maintenance, type Side, UsageError } from './ingest/model.ts';
import { int, note } from './ingest/progress.ts';
import { errorsOf, printReport } from './ingest/report.ts';
import { runCli } from './shared/cli.ts';
import { numberFlag } from './shared/flags.ts';

const USAGE = `Usage: npm run bench:ingest -- [options]

Measures ingest into sales on two databases of one server, with the same data:
tanktop_bench_baseline (the schema without the _500_* rollup triggers of the parent) and
tanktop_bench_rollups (the full schema, folded every second as in production).
Prints rows/s per case and the ratio rollups/baseline (higher is better). The
server is DATABASE_URL when set (its user must be allowed to create databases),
otherwise the embedded Postgres.

Options:
  --scale X     fraction of the full row counts, 0 < X <= 1 (default 1: COPY of
                1,000,000 sales, 10 x 100,000 by INSERT ... SELECT, 100,000 updated)
  --seconds S   length of each concurrent run, cases c, d, c2 (default 15)
  --repeat N    runs of each concurrent case per database, medians taken (default 3)
  --keep        keep both databases afterwards (default: dropped)
  -h, --help    show this help

Exit code: 0 done; 1 the rollups were inexact, a deadlock or serialization
failure happened, or an error; 2 bad arguments; 3 no database.
`;

// ---------------------------------------------------------------------------
// Command line

function parseOptions(argv: string[]): BenchOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        scale: { type: 'string' }, seconds: { type: 'string' }, repeat: { type: 'string' },
        keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  return {
    scale: numberFlag('--scale', v.scale, 1, (x) => x > 0 && x <= 1, 'a number above 0 and at most 1'),
    seconds: numberFlag('--seconds', v.seconds, 15, (x) => x > 0 && x <= 3_600, 'a number of seconds above 0 and at most 3600'),
    repeat: numberFlag('--repeat', v.repeat, 3, (x) => Number.isInteger(x) && x >= 1 && x <= 100, 'a whole number from 1 to 100'),
    keep: v.keep ?? false,
  };
}

// ---------------------------------------------------------------------------
// Main

async function runBenchmark(options: BenchOptions): Promise<number> {
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn', 'bench');
  note('opening the database server');
  const database = await openDatabase(config, log);
  let sides: Side[] = [];
  try {
    note(`creating and migrating ${Object.values(DATABASES).join(' and ')}`);
    sides = await createSides(database.adminUrl, log);
    const [baseline, rollups] = sides as [Side, Side];
    const { rows } = await baseline.pool.query<{ server_version: string }>('show server_version');
    const header = `PostgreSQL ${rows[0]!.server_version} at ${describeTarget(database.adminUrl)}${config.databaseUrl ? '' : ' (embedded)'}, ` +
      `${os.availableParallelism()} cores; --scale ${options.scale}, --seconds ${options.seconds}, --repeat ${options.repeat}; ` +
      `${int(DIMENSIONS.agents)} agents, ${int(DIMENSIONS.products)} products, ${int(DIMENSIONS.customers)} customers.`;
    note('seeding the dimension tables');
    const entities = await seedDimensions(sides);

    let maintenance: Maintenance | undefined;
    const results = await runIngestCases(sides, entities, options, async (copy) => {
      maintenance = await measureMaintenance(rollups, copy.runs.rollups[0]!.postFoldMs);
    });

    note('verifying the rollups after all cases');
    const final = await finalDifferences(rollups);
    printReport(header, results, maintenance!, final);
    const errors = results.reduce((sum, r) => sum + errorsOf(r).deadlocks + errorsOf(r).serializationFailures, 0);
    return final.differences === 0 && maintenance!.verifyDifferences === 0 && errors === 0 ? 0 : 1;
  } finally {
    await Promise.all(sides.map((side) => side.pool.end()));
    if (options.keep) note(`kept ${Object.values(DATABASES).join(' and ')}`);
    else await dropDatabases(database.adminUrl).catch((error: unknown) => note(`could not drop the bench databases: ${String(error)}`));
    await database.close();
  }
}

process.exitCode = await runCli('bench:ingest', USAGE, process.argv.slice(2), parseOptions, runBenchmark);
