import pg from 'pg';
import t from 'tap';
import { insertSales, makeCatalogue, makeSale } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/run-command.ts';

t.test('stats --help explains every command', async (t) => {
  const result = await runCli('stats', ['--help'], {});
  t.equal(result.code, 0);
  t.match(result.stdout, /Usage: npm run stats -- <command>/);
  for (const command of ['verify', 'rebuild', 'timezone', 'fold']) t.match(result.stdout, command);
});

t.test('stats refuses bad arguments with a sentence and exit code 2, before touching the database', async (t) => {
  const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' };
  const cases: [string[], RegExp][] = [
    [[], /say verify, rebuild, timezone, fold, partitions or archive/],
    [['bogus'], /unknown command "bogus"/],
    [['verify', '--frm', 'x'], /Unknown option '--frm'/],
    [['rebuild', '--from', '2026-02-30'], /--from must be a date as YYYY-MM-DD, not "2026-02-30"/],
    [['rebuild', '--to', 'yesterday'], /--to must be a date/],
    [['rebuild', '--from', '2026-03-02', '--to', '2026-03-01'], /--from 2026-03-02 is after --to 2026-03-01/],
    [['verify', '--from', '2026-03-02'], /--from and --to go with rebuild/],
    [['timezone', 'Europe/London', 'extra'], /unexpected argument "extra"/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli('stats', args, unreachable);
    t.equal(result.code, 2, `exit 2 for ${args.join(' ') || '(nothing)'}`);
    t.match(result.stderr, message);
    t.notMatch(result.stderr, /at .*\.ts:\d+/, 'no stack trace');
  }
});

t.test('stats verify, rebuild, fold and timezone against a real database', async (t) => {
  const { url, pool } = await freshDatabase(t);
  const env = { DATABASE_URL: url };
  const c = await makeCatalogue(pool);
  // Both on 10 March in UTC, both on 11 March in Tokyo (UTC+9).
  await insertSales(pool, [makeSale(c, { created_at: '2026-03-10T15:30:00Z' }), makeSale(c, { created_at: '2026-03-10T23:30:00Z' })]);

  let result = await runCli('stats', ['verify'], env);
  t.equal(result.code, 0);
  t.match(result.stdout, /exact/);

  result = await runCli('stats', ['fold'], env);
  t.equal(result.code, 0);
  t.match(result.stdout, /folded 3 pending deltas/, 'one per dimension: both sales share their keys');

  await pool.query(`update daily_sales_stats_folded set sales_count = 7 where dimension = 'agent'`);
  result = await runCli('stats', ['verify'], env);
  t.equal(result.code, 1, 'differences: exit 1');
  t.match(result.stdout, /2026-03-10\tagent\t\d+\t2\t20\.00\t7\t20\.00/);
  t.match(result.stderr, /1 rollup rows differ/);

  result = await runCli('stats', ['rebuild', '--from', '2026-03-10', '--to', '2026-03-10'], env);
  t.equal(result.code, 0);
  t.match(result.stdout, /^rebuilt 2026-03-10 to 2026-03-10: 1 daily rollup rows corrected in /, 'only the tampered row is written');
  t.equal((await runCli('stats', ['verify'], env)).code, 0, 'exact again');
  result = await runCli('stats', ['rebuild', '--from', '2026-03-10', '--to', '2026-03-10'], env);
  t.match(result.stdout, /: 0 daily rollup rows corrected/, 'an exact range: nothing to write');

  result = await runCli('stats', ['timezone', 'Mars/Olympus'], env);
  t.equal(result.code, 1);
  t.match(result.stderr, /^stats: unknown time zone 'Mars\/Olympus': use an IANA name/m);

  result = await runCli('stats', ['timezone', 'Asia/Tokyo'], env);
  t.equal(result.code, 0);
  result = await runCli('stats', ['timezone'], env);
  t.equal(result.stdout, 'Asia/Tokyo\n');
  const { rows } = await pool.query(`select count(*)::int as days from daily_sales_stats where dimension = 'agent'`);
  t.equal(rows[0].days, 1, 'in Tokyo both sales fall on 11 March');
});

t.test('migrate: help, bad action, status', async (t) => {
  const { url } = await freshDatabase(t);
  t.equal((await runCli('migrate', ['--help'], {})).code, 0);
  const bad = await runCli('migrate', ['sideways'], { DATABASE_URL: url });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown action "sideways"/);
  const count = await runCli('migrate', ['up', '--count', '2'], { DATABASE_URL: url });
  t.equal(count.code, 2);
  t.match(count.stderr, /--count takes a whole number of at least 1, with down/);
  const status = await runCli('migrate', ['status'], { DATABASE_URL: url });
  t.equal(status.code, 0);
  t.equal(status.stdout, 'up to date\n');
});

t.test('an unusable DATABASE_URL is one sentence and exit code 3', async (t) => {
  const { adminUrl } = await freshDatabase(t);
  const missing = new URL(adminUrl);
  missing.pathname = '/tanktop_no_such_database';
  const cases: [string, RegExp][] = [
    ['postgres://postgres@127.0.0.1:1/tanktop', /cannot reach Postgres at 127\.0\.0\.1:1\/tanktop as postgres: connection refused/],
    ['mysql://root@127.0.0.1/x', /DATABASE_URL must be a postgres:\/\/ URL/],
    ['not a url', /DATABASE_URL is not a valid URL/],
    [missing.toString(), /database in .* does not exist/],
  ];
  for (const [url, message] of cases) {
    const result = await runCli('stats', ['verify'], { DATABASE_URL: url });
    t.equal(result.code, 3, url);
    t.match(result.stderr, message);
    t.equal(result.stderr.trim().split('\n').length, 1, 'one line');
  }
});

t.test('a wrong password is named as such', async (t) => {
  const { pool, adminUrl, name } = await freshDatabase(t);
  const role = `${name}_login`;
  await pool.query(`create role ${role} login password 'right-password'`);
  t.teardown(() => pool.query(`drop role if exists ${role}`).then(() => undefined));
  const wrong = new URL(adminUrl);
  wrong.username = role;
  wrong.password = 'wrong-password';
  wrong.pathname = `/${name}`;
  const probe = new pg.Client({ connectionString: wrong.toString() });
  probe.on('error', () => {});
  const trusted = await probe.connect().then(() => true, () => false);
  await probe.end().catch(() => {});
  if (trusted) {
    t.skip('this server trusts local connections: no password is checked', () => {});
    return;
  }
  const result = await runCli('stats', ['timezone'], { DATABASE_URL: wrong.toString() });
  t.equal(result.code, 3);
  t.match(result.stderr, /refused the password/);
  t.notMatch(result.stderr, /wrong-password/, 'the password is not printed');
});

t.test('a user without the privileges gets a sentence, not a stack trace', async (t) => {
  const { pool, adminUrl, name } = await freshDatabase(t);
  const role = `${name}_reader`;
  await pool.query(`create role ${role} login password 'reader-password'`);
  t.teardown(() => pool.query(`drop owned by ${role}; drop role if exists ${role}`).then(() => undefined));
  const url = new URL(adminUrl);
  url.username = role;
  url.password = 'reader-password';
  url.pathname = `/${name}`;
  const result = await runCli('stats', ['timezone'], { DATABASE_URL: url.toString() });
  t.equal(result.code, 1);
  t.match(result.stderr, /^stats: the database user may not do this: permission denied for (table|function) /);
  t.notMatch(result.stderr, /\bat .*:\d+:\d+/, 'no stack trace');
});
