/**
 * `npm run bench:scale`: the engine's figures as sales grow (issue 13).
 *
 * Two databases on one server, kept between runs and grown to each size in
 * turn (bench/scale/load-sales.ts: COPY, keys and indexes after, resumable):
 * the full schema and a baseline without the rollup triggers, with the same
 * rows. At each size: bench:ingest's cases on both (their ratio), the fold
 * under case (c)'s writers with the pending rows over time, verify and
 * rebuild of one month, the pages by autocannon, the disk per sale. What a
 * measurement adds to sales is deleted after it, so each size holds exactly
 * its sales. Progress on stderr; per-size sections and the curve on stdout.
 */
import os from 'node:os';
import { loadConfig } from '../src/config.ts';
import { describeTarget } from '../src/db/connection-check.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createLogger } from '../src/logger.ts';
import { runIngestCases } from './ingest/cases.ts';
import { finalDifferences } from './ingest/maintenance.ts';
import { settle } from './ingest/measure.ts';
import { DIMENSIONS, type Side } from './ingest/model.ts';
import { int, note } from './ingest/progress.ts';
import { errorsOf } from './ingest/report.ts';
import { curveTable, sizeSection, type SizeResult } from './scale/curve.ts';
import { dropScaleDatabases, ensureDimensions, openScaleSides, SCALE_DATABASES } from './scale/databases.ts';
import { diskUse } from './scale/disk.ts';
import { growSales, removeMeasurementSales } from './scale/load-sales.ts';
import { timeMonth } from './scale/month.ts';
import { parseOptions, type ScaleOptions, USAGE } from './scale/options.ts';
import { measurePages } from './scale/pages.ts';
import { sustainFold } from './scale/sustain.ts';
import { runCli } from './shared/cli.ts';

async function runBenchmark(options: ScaleOptions): Promise<number> {
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn', 'bench');
  note('opening the database server');
  const database = await openDatabase(config, log);
  let sides: Side[] = [];
  try {
    note(`creating (when missing) and migrating ${Object.values(SCALE_DATABASES).join(' and ')}`);
    sides = await openScaleSides(database.adminUrl, log);
    const [, rollups] = sides as [Side, Side];
    const { rows } = await rollups.pool.query<{ server_version: string }>('show server_version');
    process.stdout.write(`# bench:scale\n\nPostgreSQL ${rows[0]!.server_version} at ${describeTarget(database.adminUrl)}${config.databaseUrl ? '' : ' (embedded)'}, ` +
      `${os.availableParallelism()} cores; --sizes ${options.sizes.join(',')}, --sustain-seconds ${options.sustainSeconds}, --seconds ${options.seconds}, ` +
      `--repeat ${options.repeat}, --ingest-scale ${options.ingestScale}; ${int(DIMENSIONS.agents)} agents, ${int(DIMENSIONS.products)} products, ` +
      `${int(DIMENSIONS.customers)} customers, ${DIMENSIONS.days} days to ${DIMENSIONS.endDay}.\n`);
    const entities = await ensureDimensions(sides);
    const results: SizeResult[] = [];
    let failed = false;
    for (const size of options.sizes) {
      for (const side of sides) await growSales(side, size, entities);
      note(`--- ${int(size)} sales ---`);
      const ingest = await runIngestCases(sides, entities, { scale: options.ingestScale, seconds: options.seconds, repeat: options.repeat, keep: true });
      const afterIngest = await finalDifferences(rollups);
      for (const side of sides) await removeMeasurementSales(side);
      const sustained = await sustainFold(rollups, entities, options.sustainSeconds);
      for (const side of sides) await removeMeasurementSales(side);
      await settle(sides);
      const month = await timeMonth(rollups);
      const pages = await measurePages(rollups, log, options);
      const disk = await diskUse(rollups);
      const atEnd = await finalDifferences(rollups);
      const result = { size, ingest, sustained, month, pages, disk, differences: afterIngest.differences + month.differences + atEnd.differences };
      results.push(result);
      process.stdout.write(sizeSection(result));
      const errors = ingest.reduce((sum, r) => sum + errorsOf(r).deadlocks + errorsOf(r).serializationFailures, 0) + sustained.errors;
      if (result.differences > 0 || errors > 0) failed = true;
    }
    process.stdout.write(curveTable(results));
    return failed ? 1 : 0;
  } finally {
    await Promise.all(sides.map((side) => side.pool.end()));
    if (options.keep) note(`kept ${Object.values(SCALE_DATABASES).join(' and ')} for the next run (--drop to drop them)`);
    else await dropScaleDatabases(database.adminUrl).catch((error: unknown) => note(`could not drop the bench databases: ${String(error)}`));
    await database.close();
  }
}

process.exitCode = await runCli('bench:scale', USAGE, process.argv.slice(2), parseOptions, runBenchmark);
