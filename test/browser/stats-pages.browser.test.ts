import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import t from 'tap';
import { hashPassword } from '../../src/auth/password.ts';
import { insertUser } from '../../src/auth/users.repository.ts';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { demoSeedOptions } from '../../src/seed/seed-options.ts';
import { seed } from '../../src/seed/seeder.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { fold } from '../helpers/rollups.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const PASSWORD = 'correct horse battery';

/** '12,345.60' -> '12345.60' */
const plain = (text: string) => text.replaceAll(',', '').trim();

t.test('a manager signs in, filters a range, checks the numbers, drills down and downloads', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` }, async (t) => {
  const { pool, db } = await freshDatabase(t);
  const today = new Date().toISOString().slice(0, 10);
  await seed(pool, { ...demoSeedOptions(3_000), customers: 200, days: 60 }, () => {});
  await fold(pool);
  await insertUser(pool, 'manager', await hashPassword(PASSWORD));
  const app = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await mkdir(ARTIFACTS, { recursive: true });

  await page.goto(`${base}/stats/agents`);
  t.match(page.url(), /\/login\?next=%2Fstats%2Fagents$/, 'sent to sign in first');
  await page.fill('input[name=name]', 'manager');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/stats\/agents$/);
  t.pass('signed in and back on the page asked for');

  const from = new Date(Date.parse(`${today}T00:00:00Z`) - 13 * 86_400_000).toISOString().slice(0, 10);
  const to = new Date(Date.parse(`${today}T00:00:00Z`) - 7 * 86_400_000).toISOString().slice(0, 10);
  await page.fill('input[name=from]', from);
  await page.fill('input[name=to]', to);
  await page.selectOption('select[name=per_page]', '500');
  await page.click('form.filters button[type=submit]');
  await page.waitForURL((url) => url.searchParams.get('from') === from && url.searchParams.get('to') === to);

  const shown = await page.$$eval('table.stats tbody tr[data-day]', (rows) => rows.map((row) => {
    const cells = [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '');
    return { day: row.getAttribute('data-day'), name: cells[1]!.trim(), count: cells[2]!, total: cells[3]! };
  }));
  const { rows: expected } = await pool.query<{ day: string; name: string; count: string; total: string }>(`
    select (s.created_at at time zone 'UTC')::date::text as day, a.name, count(*)::text as count, sum(s.price)::text as total
    from sales s join sales_agents a on a.id = s.sales_agent_id
    where (s.created_at at time zone 'UTC')::date between $1 and $2
    group by 1, 2, s.sales_agent_id order by 1 desc, s.sales_agent_id desc`, [from, to]);
  t.ok(expected.length > 10, `${expected.length} rows in the range`);
  t.same(shown.map((r) => ({ day: r.day, name: r.name, count: plain(r.count), total: plain(r.total) })), expected,
    'every number on the page equals a GROUP BY over sales');
  const { rows: [sum] } = await pool.query<{ count: string; total: string }>(
    `select count(*)::text as count, sum(price)::text as total from sales where (created_at at time zone 'UTC')::date between $1 and $2`, [from, to]);
  t.equal(plain(await page.textContent('[data-total=count]') ?? ''), sum!.count);
  t.equal(plain(await page.textContent('[data-total=total]') ?? ''), sum!.total);
  await page.screenshot({ path: path.join(ARTIFACTS, 'agents.png'), fullPage: true });

  const csv = await page.request.get(new URL(await page.getAttribute('a:text("CSV")', 'href') ?? '', base).toString());
  t.equal(csv.status(), 200);
  t.equal((await csv.text()).trim().split('\r\n').length - 1, expected.length, 'the CSV download has every row');
  const json = await page.request.get(new URL(await page.getAttribute('a:text("JSON")', 'href') ?? '', base).toString());
  t.equal((await json.json()).rows.length, expected.length, 'so does the JSON');

  const first = shown[0]!;
  await page.click(`table.stats tbody tr[data-day="${first.day}"] a`);
  await page.waitForURL(/\/stats\/agents\/\d+\?from=/);
  t.equal((await page.textContent('h1'))?.startsWith(first.name), true, 'the drill-down is the agent clicked');
  t.ok(await page.$('figure.chart svg[role=img] title'), 'with a chart that has a title');
  const dayRow = await page.$$eval(`tr[data-day="${first.day}"] td`, (cells) => cells.map((cell) => cell.textContent ?? ''));
  t.same([plain(dayRow[1]!), plain(dayRow[2]!)], [plain(first.count), plain(first.total)], 'and the same numbers for that day');
  await page.screenshot({ path: path.join(ARTIFACTS, 'agent.png'), fullPage: true });

  await page.goto(`${base}/stats/customers?from=${from}&to=${to}&view=pivot`);
  t.ok(await page.$('table.pivot tfoot'), 'the pivot renders with its totals');

  await page.goto(`${base}/`);
  t.ok(await page.$('figure.chart svg'), 'the overview has its 90-day chart');
  await page.screenshot({ path: path.join(ARTIFACTS, 'overview.png'), fullPage: true });

  await page.click('form.logout button');
  await page.waitForURL(/\/login$/);
  await page.goto(`${base}/`);
  t.match(page.url(), /\/login/, 'signed out: back to the sign-in');
});
