import t from 'tap';
import { insertSales, makeCatalogue, makeSale } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { actualRollups } from '../helpers/rollups.ts';
import { runCli } from '../helpers/run-command.ts';

/** YYYY-MM of the month `offset` months from the current one (UTC). */
function monthFromNow(offset: number): string {
  const date = new Date();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + offset);
  return date.toISOString().slice(0, 7);
}

t.test('stats --help explains partitions, archive and --month', async (t) => {
  const result = await runCli('stats', ['--help'], {});
  t.equal(result.code, 0);
  for (const text of ['partitions [--ahead N]', 'archive --before M [--drop]', 'verify [--month M]', 'rebuild --month M', 'SALES_PARTITIONS_AHEAD']) {
    t.match(result.stdout, text);
  }
});

t.test('bad partition and archive arguments are a sentence and exit code 2, before touching the database', async (t) => {
  const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
  const cases: [string[], RegExp][] = [
    [['partitions', '--ahead', 'many'], /--ahead must be a number of months from 0 to 120, not "many"/],
    [['partitions', '--ahead', '121'], /--ahead must be a number of months from 0 to 120, not "121"/],
    [['verify', '--ahead', '2'], /--ahead goes with partitions/],
    [['archive'], /archive needs --before YYYY-MM/],
    [['archive', '--before', '2025-13'], /--before must be a month as YYYY-MM, not "2025-13"/],
    [['archive', '--before', '2025-01-01'], /--before must be a month as YYYY-MM/],
    [['archive', '--before', monthFromNow(0)], /is not before the current month/],
    [['archive', '--before', monthFromNow(3)], /is not before the current month/],
    [['verify', '--drop'], /--before and --drop go with archive/],
    [['verify', '--month', '2026-3'], /--month must be a month as YYYY-MM, not "2026-3"/],
    [['fold', '--month', '2026-03'], /--month goes with verify or rebuild/],
    [['rebuild', '--month', '2026-03', '--from', '2026-03-01'], /say --month or --from\/--to, not both/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli('stats', args, unreachable);
    t.equal(result.code, 2, `exit 2 for ${args.join(' ')}`);
    t.match(result.stderr, message);
    t.notMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
  }
});

t.test('stats partitions creates the months ahead and lists the partitions', async (t) => {
  const { url, pool } = await freshDatabase(t);
  const env = { DATABASE_URL: url };
  let result = await runCli('stats', ['partitions', '--ahead', '2'], env);
  t.equal(result.code, 0, result.stderr);
  const months = [0, 1, 2].map((offset) => `sales_${monthFromNow(offset).replace('-', '_')}`);
  t.match(result.stderr, `created ${months.join(', ')}`);
  const lines = result.stdout.trim().split('\n');
  t.equal(lines[0], 'partition\tfrom\tto\testimated_rows');
  t.same(lines.slice(1).map((line) => line.split('\t')[0]), [...months, 'sales_default'], 'in range order, the default partition last');
  t.match(lines[1], new RegExp(`^${months[0]}\\t${monthFromNow(0)}-01T00:00:00Z\\t${monthFromNow(1)}-01T00:00:00Z\\t`));

  result = await runCli('stats', ['partitions'], { ...env, SALES_PARTITIONS_AHEAD: '3' });
  t.equal(result.code, 0);
  t.match(result.stderr, `created sales_${monthFromNow(3).replace('-', '_')}`, 'the setting is the default');
  result = await runCli('stats', ['partitions', '--ahead', '1'], env);
  t.match(result.stderr, 'every partition was already there');
  const { rows } = await pool.query('select count(*)::int as n from pg_inherits where inhparent = \'sales\'::regclass');
  t.equal(rows[0].n, 5);
});

t.test('stats archive moves the old months out, prints a line per month, and keeps their stats', async (t) => {
  const { url, pool } = await freshDatabase(t);
  const env = { DATABASE_URL: url };
  const c = await makeCatalogue(pool);
  await pool.query(`select create_sales_partitions('2025-10-01', '2025-12-01')`);
  await insertSales(pool, [
    makeSale(c, { created_at: '2025-09-10T10:00:00Z', price: '1.00' }), // in the default partition
    makeSale(c, { created_at: '2025-10-10T10:00:00Z', price: '2.00' }),
    makeSale(c, { created_at: '2025-11-10T10:00:00Z', price: '4.00' }),
    makeSale(c, { created_at: '2025-12-10T10:00:00Z', price: '8.00' }),
  ]);
  const rollups = await actualRollups(pool);

  let result = await runCli('stats', ['archive', '--before', '2025-11'], env);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stderr, 'archiving the months before 2025-11 into the schema sales_archive');
  t.match(result.stdout, 'archived 2025-09: 1 sales, total 1.00, moved to sales_archive.sales_2025_09');
  t.match(result.stdout, 'archived 2025-10: 1 sales, total 2.00, moved to sales_archive.sales_2025_10');
  t.match(result.stdout, 'archived 2 months; their stats are kept');
  t.same(await actualRollups(pool), rollups, 'the stats of the archived months are kept');

  result = await runCli('stats', ['archive', '--before', '2025-12', '--drop'], env);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'archived 2025-11: 1 sales, total 4.00, dropped');
  t.same(await actualRollups(pool), rollups);
  const { rows } = await pool.query('select month::text, dropped, sales_count::int from sales_archived_months order by month');
  t.same(rows, [
    { month: '2025-09-01', dropped: false, sales_count: 1 },
    { month: '2025-10-01', dropped: false, sales_count: 1 },
    { month: '2025-11-01', dropped: true, sales_count: 1 },
  ]);

  result = await runCli('stats', ['archive', '--before', '2025-12'], env);
  t.equal(result.code, 0);
  t.match(result.stdout, 'nothing to archive before 2025-12');

  result = await runCli('stats', ['verify'], env);
  t.equal(result.code, 0, 'verify compares the live days only');
  result = await runCli('stats', ['rebuild', '--month', '2025-10'], env);
  t.equal(result.code, 1, 'a rebuild of an archived month is refused');
  t.match(result.stderr, /^stats: cannot rebuild 2025-10-01 to 2025-10-31: the days before 2025-12-01 are archived/m);
  result = await runCli('stats', ['timezone', 'Europe/Paris'], env);
  t.equal(result.code, 1);
  t.match(result.stderr, /cannot change the time zone to Europe\/Paris: months before 2025-12 are archived/);
  await t.rejects(insertSales(pool, [makeSale(c, { created_at: '2025-10-20T00:00:00Z' })]), { code: 'TT020', message: /cannot write a sale of 2025-10-20: the months before 2025-12 are archived/ });
});

t.test('stats verify and rebuild --month work on one month', async (t) => {
  const { url, pool } = await freshDatabase(t);
  const env = { DATABASE_URL: url };
  const c = await makeCatalogue(pool);
  await pool.query(`select create_sales_partitions('2026-10-01', '2026-11-01')`);
  await insertSales(pool, [makeSale(c, { created_at: '2026-10-31T12:00:00Z' }), makeSale(c, { created_at: '2026-11-01T12:00:00Z' })]);
  await pool.query('select fold_daily_sales_stats()');
  await pool.query(`update daily_sales_stats_folded set sales_count = 5 where day in ('2026-10-31', '2026-11-01')`);

  let result = await runCli('stats', ['verify', '--month', '2026-11'], env);
  t.equal(result.code, 1);
  t.equal(result.stdout.trim().split('\n').slice(1).every((line) => line.startsWith('2026-11-01\t')), true, 'only November\'s days');
  t.match(result.stderr, /3 rollup rows differ from sales for 2026-11; run: npm run stats -- rebuild --month 2026-11/);

  result = await runCli('stats', ['rebuild', '--month', '2026-11'], env);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /^rebuilt 2026-11: 3 daily rollup rows corrected in /, "November's three rows, no more");
  t.equal((await runCli('stats', ['verify', '--month', '2026-11'], env)).code, 0);
  result = await runCli('stats', ['verify'], env);
  t.equal(result.code, 1, 'October still differs');
  t.match(result.stdout, /2026-10-31\t/);
});
