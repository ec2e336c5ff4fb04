import {
  foldRollups,
  rebuildRollups,
  setStatsTimeZone,
  statsTimeZone,
  verifyRollups,
} from '../stats/stats-maintenance.repository.ts';
import { CommandError, ExitCode, UsageError, parseCommandLine, runCommand, withDatabase } from './cli.ts';
import { parseIsoDate } from './iso-date.ts';

const usage = `
Usage: npm run stats -- <command> [options]

Commands:
  verify                      compare daily_sales_stats with a fresh GROUP BY over
                              sales; prints the rows that differ, exit code 1 if any
  rebuild [--from D] [--to D] recount the days D..D (inclusive, YYYY-MM-DD; both
                              optional, default all days) from sales
  timezone                    print the business time zone
  timezone ZONE               set it (an IANA name, e.g. Europe/London) and rebuild
                              the rollups in the same transaction
  fold                        merge pending rollup deltas now (the service does
                              this every second)

Options:
  --from D, --to D            the rebuild range
  -h, --help                  show this help

Uses DATABASE_URL when set, else the embedded Postgres under .data/.
`;

await runCommand('stats', usage, async () => {
  const args = parseCommandLine(process.argv.slice(2), { from: { type: 'string' }, to: { type: 'string' } }, usage);
  if (!args) return;
  const [command, ...rest] = args.positionals;
  const { from, to } = args.values;
  if (command !== 'rebuild' && (from !== undefined || to !== undefined)) {
    throw new UsageError('--from and --to go with rebuild');
  }
  const maxPositionals = command === 'timezone' ? 1 : 0;
  if (rest.length > maxPositionals) throw new UsageError(`unexpected argument "${rest[maxPositionals]}"`);

  switch (command) {
    case 'verify':
      return withDatabase(async ({ db }) => {
        const differences = await verifyRollups(db);
        if (differences.length === 0) {
          process.stdout.write('daily_sales_stats is exact: no differences from sales\n');
          return ExitCode.ok;
        }
        process.stdout.write('day\tdimension\tentity_id\texpected_count\texpected_total\tactual_count\tactual_total\n');
        for (const row of differences) {
          const cells = [row.day, row.dimension, row.entity_id, row.expected_count, row.expected_total, row.actual_count, row.actual_total];
          process.stdout.write(cells.map((cell) => cell ?? '-').join('\t') + '\n');
        }
        process.stderr.write(`stats: ${differences.length} rollup rows differ from sales; run: npm run stats -- rebuild\n`);
        return ExitCode.failure;
      });
    case 'rebuild': {
      const fromDay = from === undefined ? undefined : parseIsoDate(from);
      const toDay = to === undefined ? undefined : parseIsoDate(to);
      if (from !== undefined && !fromDay) throw new UsageError(`--from must be a date as YYYY-MM-DD, not "${from}"`);
      if (to !== undefined && !toDay) throw new UsageError(`--to must be a date as YYYY-MM-DD, not "${to}"`);
      if (fromDay && toDay && fromDay > toDay) throw new UsageError(`--from ${fromDay} is after --to ${toDay}`);
      return withDatabase(async ({ db }) => {
        const started = performance.now();
        process.stderr.write(`rebuilding ${fromDay || toDay ? `${fromDay ?? 'the first day'} to ${toDay ?? 'the last day'}` : 'every day'}…\n`);
        const rows = await rebuildRollups(db, fromDay, toDay);
        process.stdout.write(`rebuilt ${rows} rollup rows in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      });
    }
    case 'timezone': {
      const [zone] = rest;
      return withDatabase(async ({ db }) => {
        if (zone === undefined) {
          process.stdout.write(`${await statsTimeZone(db)}\n`);
          return;
        }
        process.stderr.write(`setting the time zone to ${zone} and rebuilding the rollups…\n`);
        await setStatsTimeZone(db, zone);
        process.stdout.write(`time zone: ${zone}\n`);
      });
    }
    case 'fold':
      return withDatabase(async ({ db }) => {
        process.stdout.write(`folded ${await foldRollups(db)} pending deltas\n`);
      });
    case undefined:
      throw new UsageError('say verify, rebuild, timezone or fold');
    default:
      throw new UsageError(`unknown command "${command}": say verify, rebuild, timezone or fold`);
  }
});

export { CommandError };
