/** bench:scale's command line. */
import { parseArgs } from 'node:util';
import { UsageError } from '../ingest/model.ts';
import { numberFlag } from '../shared/flags.ts';

export const USAGE = `Usage: npm run bench:scale -- [options]

Seeds sales into its own databases on one server (tanktop_bench_scale, the full
schema, and tanktop_bench_scale_baseline, the same rows without the rollup
triggers), kept and grown between runs (a bigger size adds only the missing
sales; an interrupted load continues), and measures at each size: the ingest
cases of bench:ingest (ratio to the baseline), the fold's sustained rows/s
under case (c)'s writers, verify and rebuild of one month, the pages by
autocannon, and the disk used per sale. Prints each figure against its value
at the first size. The server is DATABASE_URL when set (its user must be a
superuser: the load skips triggers with session_replication_role), otherwise
the embedded Postgres.

Options:
  --sizes N,N,...        sales at each step, ascending (default 1000000,10000000,100000000)
  --sustain-seconds S    how long case (c)'s writers run against the fold (default 600)
  --seconds S            each autocannon load and each concurrent ingest run (default 15)
  --repeat N             runs of each concurrent ingest case per database (default 3)
  --ingest-scale X       fraction of bench:ingest's row counts for cases a, b, e (0 < X <= 1, default 1)
  --connections N        autocannon connections (default 10)
  --keep | --drop        keep the databases for the next run (default) or drop them at the end
  -h, --help             show this help

Exit code: 0 done; 1 the rollups were inexact, a deadlock or serialization
failure happened, or an error; 2 bad arguments; 3 no database.
`;

export interface ScaleOptions {
  sizes: number[];
  sustainSeconds: number;
  seconds: number;
  repeat: number;
  ingestScale: number;
  connections: number;
  keep: boolean;
}

export function parseOptions(argv: string[]): ScaleOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        sizes: { type: 'string' }, 'sustain-seconds': { type: 'string' }, seconds: { type: 'string' },
        repeat: { type: 'string' }, 'ingest-scale': { type: 'string' }, connections: { type: 'string' },
        keep: { type: 'boolean' }, drop: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.keep && v.drop) throw new UsageError('say --keep or --drop, not both');
  return {
    sizes: parseSizes(v.sizes ?? '1000000,10000000,100000000'),
    sustainSeconds: numberFlag('--sustain-seconds', v['sustain-seconds'], 600, (x) => x > 0 && x <= 86_400, 'a number of seconds above 0 and at most 86400'),
    seconds: numberFlag('--seconds', v.seconds, 15, (x) => x > 0 && x <= 3_600, 'a number of seconds above 0 and at most 3600'),
    repeat: numberFlag('--repeat', v.repeat, 3, (x) => Number.isInteger(x) && x >= 1 && x <= 100, 'a whole number from 1 to 100'),
    ingestScale: numberFlag('--ingest-scale', v['ingest-scale'], 1, (x) => x > 0 && x <= 1, 'a number above 0 and at most 1'),
    connections: numberFlag('--connections', v.connections, 10, (x) => Number.isInteger(x) && x >= 1 && x <= 1_000, 'a whole number from 1 to 1000'),
    keep: !v.drop,
  };
}

function parseSizes(raw: string): number[] {
  const sizes = raw.split(',').map((part) => part.trim());
  const numbers = sizes.map(Number);
  if (sizes.some((part) => !/^\d+$/.test(part)) || numbers.some((n) => n < 1_000 || n > 2_000_000_000)) {
    throw new UsageError(`--sizes takes whole numbers of sales from 1000 to 2000000000, separated by commas, not "${raw}"`);
  }
  if (numbers.some((n, i) => i > 0 && n <= numbers[i - 1]!)) throw new UsageError(`--sizes must grow from one size to the next, not "${raw}"`);
  return numbers;
}
