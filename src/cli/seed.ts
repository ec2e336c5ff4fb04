import { foldRollups } from '../stats/stats-maintenance.repository.ts';
import { progressPrinter } from '../seed/progress.ts';
import { DatabaseNotEmptyError, seed, type SeedOptions } from '../seed/seeder.ts';
import { CommandError, UsageError, parseCommandLine, runCommand, withDatabase } from './cli.ts';
import { parseIsoDate } from './iso-date.ts';

const usage = `
Usage: npm run seed -- [options]

Loads a realistic, deterministic data set through COPY: skewed popularity of
agents, products and customers, prices from the product list, sales spread
over the days. The same --seed and --end give the same data.

Options:
  --sales N       sales to create                       (default 100000)
  --agents N      sales agents to create                (default 50)
  --products N    products to create                    (default 2000)
  --customers N   customers to create                   (default 10000)
  --days N        days the sales span, ending at --end  (default 365)
  --end DATE      last day of sales, YYYY-MM-DD (UTC)   (default today)
  --seed N        random seed                           (default 42)
  --append        add to a database that already has data (refused otherwise)
  -h, --help      show this help

Example: npm run seed -- --sales 1000000 --agents 50 --products 2000 --customers 100000 --days 365 --seed 42
`;

await runCommand('seed', usage, async () => {
  const args = parseCommandLine(
    process.argv.slice(2),
    {
      sales: { type: 'string' }, agents: { type: 'string' }, products: { type: 'string' },
      customers: { type: 'string' }, days: { type: 'string' }, end: { type: 'string' },
      seed: { type: 'string' }, append: { type: 'boolean' },
    },
    usage,
  );
  if (!args) return;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const v = args.values;
  const endDay = v.end === undefined ? new Date().toISOString().slice(0, 10) : parseIsoDate(v.end);
  if (!endDay) throw new UsageError(`--end must be a date as YYYY-MM-DD, not "${v.end}"`);
  const options: SeedOptions = {
    sales: count('--sales', v.sales, 100_000, 0),
    agents: count('--agents', v.agents, 50, 1),
    products: count('--products', v.products, 2_000, 1),
    customers: count('--customers', v.customers, 10_000, 1),
    days: count('--days', v.days, 365, 1),
    seed: count('--seed', v.seed, 42, 0),
    endDay,
    append: v.append ?? false,
  };

  await withDatabase(async ({ pool, db }) => {
    const progress = progressPrinter();
    const started = performance.now();
    try {
      await seed(pool, options, ({ table, done, total }) => progress.update(table, done, total));
    } catch (error) {
      if (error instanceof DatabaseNotEmptyError) throw new CommandError(error.message);
      throw error;
    }
    progress.done('folding the rollups and updating planner statistics…');
    await foldRollups(db);
    await pool.query('analyze');
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`seeded ${options.sales.toLocaleString('en')} sales in ${seconds} s\n`);
  });
});

function count(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} takes a whole number of at least ${min}, not "${raw}"`);
  }
  return value;
}
