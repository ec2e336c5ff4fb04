/**
 * A child process of the fuzz test (run with a small heap): the app on the
 * test's database, asked for pages at the far end of the calendar. It says
 * `start <i>` before and `done <i> <status>` after each request, so the
 * parent, which stops it after a deadline, knows which request hung or ate
 * the heap: a synchronous loop in a handler cannot be timed out from inside.
 */
import { loadConfig } from '../../../src/config.ts';
import { createDb } from '../../../src/db/kysely.ts';
import { createPool } from '../../../src/db/pool.ts';
import { build } from '../../../src/http/app.ts';
import { createLogger } from '../../../src/logger.ts';

const log = createLogger('silent', 'calendar-probe');
const urls = JSON.parse(process.env.FUZZ_PROBE_URLS ?? '[]') as string[];
const pool = createPool(process.env.FUZZ_PROBE_DB_URL!, log, { max: 2 });
const db = createDb(pool);
const app = await build(loadConfig({ SESSION_SECRET: process.env.FUZZ_PROBE_SESSION_SECRET }), { pool, db, log });
for (const [i, url] of urls.entries()) {
  process.stdout.write(`start ${i}\n`);
  const response = await app.inject({ url, headers: { cookie: process.env.FUZZ_PROBE_COOKIE ?? '' } });
  process.stdout.write(`done ${i} ${response.statusCode}\n`);
}
await app.close();
await db.destroy();
