import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { migrate } from '../../src/db/migrate.ts';
import { build } from '../../src/http/app.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';

t.test('GET /healthz: 200 when the database answers and the schema is current', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const app = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(response.statusCode, 200);
  t.same(response.json(), { status: 'ok', database: 'reachable', migrations: 'current' });
});

t.test('GET /healthz: 503 naming the pending migration', async (t) => {
  const { pool, db, url } = await freshDatabase(t);
  const [undone] = await migrate(url, 'down', testLog);
  const app = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(response.statusCode, 503);
  t.same(response.json(), { status: 'degraded', database: 'reachable', migrations: `pending: ${undone}` });
});

t.test('GET /healthz: 503 when the database is gone', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const app = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => app.close());
  await pool.end();
  const response = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(response.statusCode, 503);
  t.equal(response.json().database, 'unreachable');
});

t.test('an unknown path is a 404 with a sentence', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const app = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => app.close());
  const response = await app.inject({ method: 'GET', url: '/nowhere' });
  t.equal(response.statusCode, 404);
  t.match(response.json().message, 'There is no page at /nowhere.');
});
