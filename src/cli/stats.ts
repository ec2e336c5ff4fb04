import {
  foldRollups,
  rebuildRollups,
  setStatsTimeZone,
  statsTimeZone,
  verifyRollups,
} from '../stats/stats-maintenance.repository.ts';
import { archiveSalesBefore, ensureSalesPartitions, listSalesPartitions, oldestSalesMonth } from '../stats/sales-partitions.repository.ts';
import { CommandError, ExitCode, UsageError, parseCommandLine, runCommand, withDatabase } from './cli.ts';
import { parseIsoDate } from './iso-date.ts';
import { nextMonth, parseIsoMonth } from './iso-month.ts';

const usage = `
Usage: npm run stats -- <command> [options]

Commands:
  verify [--month M]          compare daily_sales_stats with a fresh GROUP BY over
                              sales (archived days left out); prints the rows that
                              differ, exit code 1 if any
  rebuild [--from D] [--to D] recount the days D..D (inclusive, YYYY-MM-DD; both
                              optional, default every day not archived) from sales
  rebuild --month M           recount the days of one month (YYYY-MM)
  timezone                    print the business time zone
  timezone ZONE               set it (an IANA name, e.g. Europe/London) and rebuild
                              the rollups in the same transaction
  fold                        merge pending rollup deltas now (the service does
                              this every second)
  partitions [--ahead N]      create the month partitions of sales for the current
                              month and the next N (default SALES_PARTITIONS_AHEAD,
                              3) where missing, and list them with estimated rows
  archive --before M [--drop] archive the months of sales before M (YYYY-MM, before
                              the current month): their partitions move to the
                              schema sales_archive (--drop: are dropped), their
                              stats are kept

Options:
  --from D, --to D            the rebuild range
  --month M                   one month (YYYY-MM) to verify or rebuild
  --ahead N                   months ahead to create (0-120)
  --before M, --drop          the archive's first month kept, and whether to drop
  -h, --help                  show this help

Uses DATABASE_URL when set, else the embedded Postgres under .data/.
`;

const commands = 'verify, rebuild, timezone, fold, partitions or archive';

await runCommand('stats', usage, async () => {
  const args = parseCommandLine(process.argv.slice(2), {
    from: { type: 'string' }, to: { type: 'string' }, month: { type: 'string' },
    ahead: { type: 'string' }, before: { type: 'string' }, drop: { type: 'boolean' },
  }, usage);
  if (!args) return;
  const [command, ...rest] = args.positionals;
  const { from, to, month, ahead, before, drop } = args.values;
  if (command !== 'rebuild' && (from !== undefined || to !== undefined)) {
    throw new UsageError('--from and --to go with rebuild');
  }
  if (month !== undefined && command !== 'verify' && command !== 'rebuild') throw new UsageError('--month goes with verify or rebuild');
  if (ahead !== undefined && command !== 'partitions') throw new UsageError('--ahead goes with partitions');
  if ((before !== undefined || drop !== undefined) && command !== 'archive') throw new UsageError('--before and --drop go with archive');
  const maxPositionals = command === 'timezone' ? 1 : 0;
  if (rest.length > maxPositionals) throw new UsageError(`unexpected argument "${rest[maxPositionals]}"`);
  const monthDays = month === undefined ? undefined : parseIsoMonth(month);
  if (month !== undefined && !monthDays) throw new UsageError(`--month must be a month as YYYY-MM, not "${month}"`);

  switch (command) {
    case 'verify':
      return withDatabase(async ({ db }) => {
        const differences = await verifyRollups(db, monthDays?.first, monthDays?.last);
        const scope = month ? ` for ${month}` : '';
        if (differences.length === 0) {
          process.stdout.write(`daily_sales_stats is exact${scope}: no differences from sales\n`);
          return ExitCode.ok;
        }
        process.stdout.write('day\tdimension\tentity_id\texpected_count\texpected_total\tactual_count\tactual_total\n');
        for (const row of differences) {
          const cells = [row.day, row.dimension, row.entity_id, row.expected_count, row.expected_total, row.actual_count, row.actual_total];
          process.stdout.write(cells.map((cell) => cell ?? '-').join('\t') + '\n');
        }
        const fix = month ? `rebuild --month ${month}` : 'rebuild';
        process.stderr.write(`stats: ${differences.length} rollup rows differ from sales${scope}; run: npm run stats -- ${fix}\n`);
        return ExitCode.failure;
      });
    case 'rebuild': {
      if (monthDays && (from !== undefined || to !== undefined)) throw new UsageError('say --month or --from/--to, not both');
      const fromDay = monthDays?.first ?? (from === undefined ? undefined : parseIsoDate(from));
      const toDay = monthDays?.last ?? (to === undefined ? undefined : parseIsoDate(to));
      if (from !== undefined && !fromDay) throw new UsageError(`--from must be a date as YYYY-MM-DD, not "${from}"`);
      if (to !== undefined && !toDay) throw new UsageError(`--to must be a date as YYYY-MM-DD, not "${to}"`);
      if (fromDay && toDay && fromDay > toDay) throw new UsageError(`--from ${fromDay} is after --to ${toDay}`);
      return withDatabase(async ({ db }) => {
        const started = performance.now();
        const range = month ? month : fromDay || toDay ? `${fromDay ?? 'the first day'} to ${toDay ?? 'the last day'}` : 'every day';
        process.stderr.write(`rebuilding ${range}…\n`);
        const rows = await rebuildRollups(db, fromDay, toDay);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        // A ranged rebuild writes only the rows that differed from the recount (sql/070); a full one rewrites them all.
        process.stdout.write(fromDay || toDay
          ? `rebuilt ${range}: ${rows} daily rollup rows corrected in ${seconds} s\n`
          : `rebuilt ${rows} rollup rows in ${seconds} s\n`);
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
    case 'partitions': {
      if (ahead !== undefined && !/^\d{1,3}$/.test(ahead)) throw new UsageError(`--ahead must be a number of months from 0 to 120, not "${ahead}"`);
      const monthsAhead = ahead === undefined ? undefined : Number(ahead);
      if (monthsAhead !== undefined && monthsAhead > 120) throw new UsageError(`--ahead must be a number of months from 0 to 120, not "${ahead}"`);
      return withDatabase(async ({ db, config }) => {
        const created = await ensureSalesPartitions(db, monthsAhead ?? config.salesPartitionsAhead);
        process.stderr.write(created.length === 0 ? 'every partition was already there\n' : `created ${created.join(', ')}\n`);
        process.stdout.write('partition\tfrom\tto\testimated_rows\n');
        for (const partition of await listSalesPartitions(db)) {
          const rows = partition.estimatedRows < 0 ? 'unknown' : String(partition.estimatedRows);
          process.stdout.write(`${partition.name}\t${partition.from ?? 'default'}\t${partition.to ?? '-'}\t${rows}\n`);
        }
      });
    }
    case 'archive':
      return archive(before, drop ?? false);
    case undefined:
      throw new UsageError(`say ${commands}`);
    default:
      throw new UsageError(`unknown command "${command}": say ${commands}`);
  }
});

/**
 * One month at a time, oldest first, each in its own transaction: a progress
 * line per month, and the lock on sales (DETACH) held for one month only.
 */
async function archive(before: string | undefined, drop: boolean): Promise<void> {
  if (before === undefined) throw new UsageError('archive needs --before YYYY-MM: the first month to keep');
  const month = parseIsoMonth(before);
  if (!month) throw new UsageError(`--before must be a month as YYYY-MM, not "${before}"`);
  const thisMonth = `${new Date().toISOString().slice(0, 7)}-01`;
  if (month.first >= thisMonth) {
    throw new UsageError(`--before ${before} is not before the current month (${thisMonth.slice(0, 7)}): only months before the current one can be archived`);
  }
  return withDatabase(async ({ db }) => {
    let current = await oldestSalesMonth(db);
    process.stderr.write(`archiving the months before ${before}${drop ? ' (dropping their partitions)' : ' into the schema sales_archive'}…\n`);
    let archived = 0;
    while (current !== undefined && current < month.first) {
      const next = nextMonth(current);
      for (const row of await archiveSalesBefore(db, next, drop)) {
        archived++;
        const where = row.archived_table ? `moved to ${row.archived_table}` : 'dropped';
        process.stdout.write(`archived ${row.month.slice(0, 7)}: ${row.sales_count} sales, total ${row.total_price}, ${where}\n`);
      }
      current = next;
    }
    process.stdout.write(archived === 0 ? `nothing to archive before ${before}\n` : `archived ${archived} months; their stats are kept\n`);
  });
}

export { CommandError };
