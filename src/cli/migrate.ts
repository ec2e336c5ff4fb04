import { migrate, migrationStatus } from '../db/migrate.ts';
import { ExitCode, UsageError, parseCommandLine, runCommand, withDatabase } from './cli.ts';

const usage = `
Usage: npm run migrate -- <up|down|status> [--count N]

  up        apply every pending migration, then the functions, triggers and
            views of sql/ (re-applied only when they changed)
  down      undo the last migration (or the last N with --count N)
  status    list pending migrations; exit code 1 when any are pending

Options:
  --count N   how many migrations to undo with down (default 1)
  -h, --help  show this help

Uses DATABASE_URL when set, else the embedded Postgres under .data/.
`;

await runCommand('migrate', usage, async () => {
  const args = parseCommandLine(process.argv.slice(2), { count: { type: 'string' } }, usage);
  if (!args) return;
  const [action, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (action !== 'up' && action !== 'down' && action !== 'status') {
    throw new UsageError(action ? `unknown action "${action}": say up, down or status` : 'say up, down or status');
  }
  let count: number | undefined;
  if (args.values.count !== undefined) {
    count = Number(args.values.count);
    if (action !== 'down' || !Number.isInteger(count) || count < 1) {
      throw new UsageError('--count takes a whole number of at least 1, with down');
    }
  }

  return withDatabase(async ({ url, pool, log }) => {
    if (action === 'status') {
      const status = await migrationStatus(pool);
      for (const name of status.pending) process.stdout.write(`pending: ${name}\n`);
      if (status.pending.length === 0) {
        process.stdout.write(status.replaceableSqlCurrent ? 'up to date\n' : 'migrations applied; sql/ changed since it was applied: run npm run migrate -- up\n');
      } else {
        process.stderr.write(`migrate: ${status.pending.length} pending; apply them with: npm run migrate -- up (make start does it too)\n`);
      }
      return status.pending.length === 0 && status.replaceableSqlCurrent ? ExitCode.ok : ExitCode.failure;
    }
    const ran = await migrate(url, action, log, count);
    process.stdout.write(ran.length ? `${action}: ${ran.join(', ')}\n` : `${action}: nothing to do\n`);
  });
});
