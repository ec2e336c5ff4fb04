import t from 'tap';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';

t.test('a database error a request caused is a 400 with our sentence; the database\'s own text never reaches the client', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const app = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => app.close());
  // Routes that hand values straight to SQL, as a route whose validation missed something would.
  const probes: [string, string, unknown[]][] = [
    ['nul', 'select $1::text', ['A\0B']],
    ['date', 'select $1::date', ['0000-12-03']],
    ['integer', 'select $1::int', ['x']],
    ['overflow', 'select $1::int', ['99999999999']],
    ['unique', 'create temp table t (n int unique); insert into t values (1), (1)', []],
    ['bug', 'select * from no_such_table', []],
  ];
  for (const [name, text, values] of probes) {
    app.get(`/api/probe/${name}`, { config: { public: true } }, async () => (await pool.query(text, values)).rows);
    app.get(`/probe/${name}`, { config: { public: true } }, async () => (await pool.query(text, values)).rows);
  }
  const expected: [string, number, string][] = [
    ['nul', 400, 'The request contains a character that cannot be stored (such as a NUL): remove it and try again.'],
    ['date', 400, 'A date in the request is outside the range this site handles.'],
    ['integer', 400, 'A value in the request is not in the form expected (a number where a number belongs, for example).'],
    ['overflow', 400, 'A number in the request is too large.'],
    ['unique', 400, 'This could not be saved: it conflicts with what is already stored, or leaves out something required.'],
    ['bug', 500, 'Something went wrong on our side; it has been logged.'],
  ];
  const raw = /invalid byte sequence|date\/time field|invalid input syntax|out of range for type|duplicate key|no_such_table|relation/;
  for (const [name, status, sentence] of expected) {
    const json = await app.inject({ url: `/api/probe/${name}` });
    t.equal(json.statusCode, status, `${name}: ${status}`);
    t.same(json.json(), { statusCode: status, error: status === 400 ? 'bad_request' : json.json().error, message: sentence }, `${name}: our sentence`);
    t.notMatch(json.body, /\b2[0-9A-Z]{4}\b/, `${name}: no SQLSTATE`);
    const page = await app.inject({ url: `/probe/${name}`, headers: { accept: 'text/html' } });
    t.equal(page.statusCode, status);
    t.notMatch(page.body, raw, `${name}: the page has none of the database's text`);
  }
  const guarded = await app.inject({ url: '/api/probe/date?x=%00&y=1&y=2' });
  t.equal(guarded.statusCode, 400, 'a route added after build() is behind the input guard too');
  t.equal(guarded.json().message, 'The parameter "x" contains a control character (U+0000), which it may not: remove it and try again.');
});

t.test('a plugin error whose message is only its status\'s name gets a sentence instead', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const app = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => app.close());
  // Found by the route fuzz test: @fastify/static answers "Forbidden" for /static/. (a NUL there is the input guard's 400).
  for (const url of ['/static/.']) {
    const response = await app.inject({ url });
    t.equal(response.statusCode, 403, url);
    t.match(response.body, 'This address may not be opened: check the link.', `${url}: a sentence, not "Forbidden"`);
  }
});
