import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import t from 'tap';
import { freshDatabase } from '../helpers/database.ts';
import { startAndStop } from '../helpers/server-process.ts';

const CHROMIUM = '/usr/bin/chromium';
/**
 * The README shows these two: `npm run screenshots` writes them to docs/screenshots/;
 * an ordinary test run to test-artifacts/screenshots/, so `make test` leaves the tree clean.
 */
const SCREENSHOTS = path.resolve(import.meta.dirname, '../..', process.env.TANKTOP_SCREENSHOTS_DIR || 'test-artifacts/screenshots');
const PASSWORD = 'correct horse battery';

t.test('a newcomer opens the setup link make start printed, creates the first user and lands signed in on the overview', { skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: apt-get install chromium` }, async (t) => {
  const { url, pool } = await freshDatabase(t);
  // No sandboxes: their fixed ports may be taken by another run on this machine, and this test needs none of them.
  const run = await startAndStop({ DATABASE_URL: url, DEMO_SALES: '3000', DEV_SANDBOXES: 'off', LOG_LEVEL: 'warn' }, async (base, stdout) => {
    const link = /First user: open (http:\/\/\S+)/.exec(stdout)?.[1];
    if (!link) throw new Error(`no setup link in:\n${stdout}`);
    t.ok(link.startsWith(`${base}/setup/`), 'the printed link');

    const browser: Browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await mkdir(SCREENSHOTS, { recursive: true });

      await page.goto(`${base}/login`);
      t.match(await page.textContent('.notice'), 'setup link', 'the login page points to the link');

      const opened = await page.goto(link);
      t.equal(opened?.status(), 200);
      t.equal(await page.textContent('h1'), 'Create the first user');
      await page.fill('input[name=name]', 'manager');
      await page.fill('input[name=password]', PASSWORD);
      await page.fill('input[name=password_confirmation]', PASSWORD);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'setup-form.png') });

      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/`);
      t.equal(await page.textContent('.who'), 'manager', 'signed in as the new user');
      t.ok(await page.$('figure.chart svg'), 'on the overview, with its chart');
      await page.screenshot({ path: path.join(SCREENSHOTS, 'setup-done.png') });

      const again = await page.goto(link);
      t.equal(again?.status(), 404, 'the link is used up');
      await page.goto(`${base}/stats/agents`);
      t.match(page.url(), /\/stats\/agents$/, 'and the session opens every page');
    } finally {
      await browser.close();
    }
  });
  t.equal(run.code, 0, 'the service stops cleanly on Ctrl-C');
  const { rows } = await pool.query('select name from users');
  t.same(rows, [{ name: 'manager' }]);
});
