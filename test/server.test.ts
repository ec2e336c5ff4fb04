import t from 'tap';
import { hashPassword } from '../src/auth/password.ts';
import { insertUser } from '../src/auth/users.repository.ts';
import { freshDatabase } from './helpers/database.ts';
import { startAndStop } from './helpers/server-process.ts';

t.test('the service starts on an empty database, loads the demo, prints the first-user setup link, and stops on Ctrl-C', async (t) => {
  const { url, pool } = await freshDatabase(t);
  let setupUrl = '';
  const result = await startAndStop({ DATABASE_URL: url, DEMO_SALES: '500' }, async (base, stdout) => {
    const health = await fetch(`${base}/healthz`);
    t.equal(health.status, 200, '/healthz answers while it runs');
    const page = await fetch(`${base}/`, { redirect: 'manual' });
    t.equal(page.status, 303, 'pages ask for a sign-in');
    setupUrl = /First user: open (http:\/\/\S+)/.exec(stdout)?.[1] ?? '';
    t.match(setupUrl, new RegExp(`^${base}/setup/[A-Za-z0-9_-]{43}$`), 'a one-time link on the address it listens on');
    const form = await fetch(setupUrl);
    t.equal(form.status, 200, 'the link opens the form');
    t.match(await form.text(), 'Create the first user');
    t.equal((await fetch(`${base}/setup/${'A'.repeat(43)}`)).status, 404, 'another token does not');
  });
  t.equal(result.code, 0, 'exits cleanly');
  t.match(result.stdout, /No users yet[\s\S]*First user: open http:[\s\S]*npm run user -- add NAME/, 'prints the link, and the command for scripts');
  t.match(result.stderr, `"setupUrl":"${setupUrl}"`, 'and logs it');
  t.equal(result.stderr.split(setupUrl.slice(-43)).length - 1, 1, 'once: the token appears in no other log line');
  t.match(result.stderr, /"msg":"shutting down"[\s\S]*"msg":"stopped"/, 'logs its orderly shutdown');
  const { rows } = await pool.query('select count(*)::int as sales from sales');
  t.equal(rows[0].sales, 500, 'the demo data set was loaded');
  const { rows: diff } = await pool.query('select count(*)::int as n from verify_daily_sales_stats()');
  t.equal(diff[0].n, 0, 'and its rollups are exact');
});

t.test('with a user and data present it loads nothing and prints no hint', async (t) => {
  const { url, pool } = await freshDatabase(t);
  await insertUser(pool, 'ann', await hashPassword('a long enough password'));
  await pool.query(`insert into customers (name, email) values ('A', 'a@example.com')`);
  const result = await startAndStop({ DATABASE_URL: url, DEMO_SALES: '500' }, async () => {});
  t.equal(result.code, 0);
  t.notMatch(result.stdout, /No users yet|\/setup\//);
  const { rows } = await pool.query('select count(*)::int as sales from sales');
  t.equal(rows[0].sales, 0, 'a database with data gets no demo');
});

t.test('START_WORKER=false: the service spawns no job worker, and says how to run one', async (t) => {
  const { url } = await freshDatabase(t);
  const result = await startAndStop({ DATABASE_URL: url, DEMO_SALES: '0', DEV_SANDBOXES: 'off', START_WORKER: 'false' }, async () => {
    // Long enough for a spawned worker to announce itself (it shares this stdout), as the default start's does.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  });
  t.equal(result.code, 0, 'exits cleanly');
  t.match(result.stdout, /worker: +none started \(START_WORKER=false: run npm run worker/);
  t.notMatch(result.stdout, /worker is running/, 'no worker announced itself');
});

t.test('DATABASE_POOL_SIZE caps the connections of the process\'s own pool', async (t) => {
  const { url, pool } = await freshDatabase(t);
  /** The most connections the service's pool held at once while 40 health checks ran together. */
  async function peakConnections(env: Record<string, string>): Promise<number> {
    let peak = 0;
    const appName = `tt-pool-size-${env.DATABASE_POOL_SIZE ?? 'default'}`;
    await startAndStop({ DATABASE_URL: url, DEMO_SALES: '0', DEV_SANDBOXES: 'off', START_WORKER: 'false', PGAPPNAME: appName, ...env }, async (base) => {
      for (let round = 0; round < 5; round++) {
        const checks = Promise.all(Array.from({ length: 40 }, () => fetch(`${base}/healthz`).then((response) => response.status)));
        const sampling = (async () => {
          for (let i = 0; i < 10; i++) {
            const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where application_name = $1`, [appName]);
            peak = Math.max(peak, rows[0]!.n);
          }
        })();
        t.same(new Set(await checks), new Set([200]), 'every health check answers');
        await sampling;
      }
    });
    return peak;
  }
  const capped = await peakConnections({ DATABASE_POOL_SIZE: '2' });
  t.ok(capped >= 1 && capped <= 2, `at most 2 connections with DATABASE_POOL_SIZE=2 (saw ${capped})`);
  const uncapped = await peakConnections({});
  t.ok(uncapped > 2, `more than 2 at the default of 10 under the same load (saw ${uncapped}): the cap is what held it`);
});
