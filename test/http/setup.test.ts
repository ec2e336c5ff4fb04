import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import t, { type Test } from 'tap';
import { createFirstUserSetup } from '../../src/auth/first-user-setup.ts';
import { hashPassword } from '../../src/auth/password.ts';
import { insertFirstUser, insertUser } from '../../src/auth/users.repository.ts';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import type { Logger } from '../../src/logger.ts';
import { freshDatabase, testLog, type TestDatabase } from '../helpers/database.ts';
import { PASSWORD, cookieHeader, formToken, unescapeHtml } from '../stats-pages/app-harness.ts';

const FORM = 'application/x-www-form-urlencoded';
const REMOTE = '203.0.113.7';

interface SetupApp extends TestDatabase {
  app: FastifyInstance;
  token: string;
  url: string;
}

/** The app as src/server.ts builds it on a database with no users: a setup token issued. */
async function setupApp(t: Test, env: Record<string, string> = {}, options: { log?: Logger; database?: TestDatabase } = {}): Promise<SetupApp> {
  const database = options.database ?? await freshDatabase(t);
  const setup = createFirstUserSetup();
  const app = await build(loadConfig({ LOGIN_ATTEMPTS_PER_MINUTE: '1000', ...env }), { pool: database.pool, db: database.db, log: options.log ?? testLog, setup });
  t.teardown(() => app.close());
  const token = setup.issue();
  return { ...database, app, token, url: `/setup/${token}` };
}

/** GET the form: its CSRF token and the cookie that goes with it. */
async function openForm(app: FastifyInstance, url: string, remoteAddress?: string) {
  const page = await app.inject({ url, remoteAddress, headers: { accept: 'text/html' } });
  return { page, cookie: cookieHeader(page), csrf: page.statusCode === 200 ? formToken(page.body) : '' };
}

function post(app: FastifyInstance, url: string, fields: Record<string, string>, cookie: string, remoteAddress?: string): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST', url, remoteAddress, payload: new URLSearchParams(fields).toString(),
    headers: { cookie, 'content-type': FORM, accept: 'text/html' },
  });
}

/** Opens the form and submits it. */
async function createFirst(app: FastifyInstance, url: string, fields: Record<string, string>, remoteAddress?: string) {
  const { cookie, csrf } = await openForm(app, url, remoteAddress);
  const response = await post(app, url, { _csrf: csrf, ...fields }, cookie, remoteAddress);
  return { response, cookie: cookieHeader(response, cookie) };
}

const good = { name: 'ann', password: PASSWORD, password_confirmation: PASSWORD };

async function userNames(database: TestDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ name: string }>('select name from users order by id');
  return rows.map((row) => row.name);
}

/** The 404 page of a path that is not there, for comparison. */
async function notFoundPage(app: FastifyInstance, url: string) {
  const response = await app.inject({ url, headers: { accept: 'text/html' } });
  return { statusCode: response.statusCode, body: response.body };
}

t.test('the setup link shows a form that creates the first user, signs them in and goes to the overview', async (t) => {
  const h = await setupApp(t);
  const { page } = await openForm(h.app, h.url);
  t.equal(page.statusCode, 200);
  t.match(page.body, '<h1>Create the first user</h1>');
  t.match(page.body, `action="/setup/${h.token}"`);
  t.match(page.body, 'name="password_confirmation"');
  t.match(page.body, '<link rel="stylesheet" href="/static/style.css">', 'in the layout of every page');
  t.equal(page.headers['referrer-policy'], 'no-referrer', 'the link does not leak through Referer');
  t.equal(page.headers['cache-control'], 'no-store');

  const { response, cookie } = await createFirst(h.app, h.url, { ...good, name: ' Ann ' });
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/');
  const session = (response.cookies as { name: string; httpOnly?: boolean; sameSite?: string }[]).find((c) => c.name === 'tanktop_session');
  t.match(session, { httpOnly: true, sameSite: 'Lax' }, 'the same session cookie as /login');
  t.same(await userNames(h), ['Ann'], 'the name is trimmed');
  const { rows } = await h.pool.query('select password_hash from users');
  t.match(rows[0].password_hash, /^scrypt\$131072\$8\$1\$/, 'the password is stored as a scrypt hash only');

  const overview = await h.app.inject({ url: '/', headers: { cookie } });
  t.equal(overview.statusCode, 200, 'signed in: the overview opens');
  t.match(overview.body, '<span class="who">Ann</span>');

  const page2 = await h.app.inject({ url: '/login' });
  const signIn = await h.app.inject({
    method: 'POST', url: '/login', headers: { cookie: cookieHeader(page2), 'content-type': FORM },
    payload: new URLSearchParams({ _csrf: formToken(page2.body), name: 'ann', password: PASSWORD }).toString(),
  });
  t.equal(signIn.statusCode, 303, 'and the password chosen in the form signs in at /login');
});

t.test('every refusal is the ordinary 404 page: a wrong token learns nothing about a pending setup', async (t) => {
  const h = await setupApp(t);
  const wrong = `/setup/${'A'.repeat(43)}`;
  const pending = await h.app.inject({ url: wrong, headers: { accept: 'text/html' } });
  t.equal(pending.statusCode, 404, 'a wrong token while a setup is pending');
  t.notMatch(pending.body, 'Create the first user');

  const { pool, db } = await freshDatabase(t);
  const idle = await build(loadConfig({}), { pool, db, log: testLog }); // no token issued, as when users existed at start
  t.teardown(() => idle.close());
  t.same(await notFoundPage(idle, wrong), { statusCode: 404, body: pending.body }, 'the same page when no setup is pending');
  t.equal((await idle.inject({ url: h.url })).statusCode, 404, 'another process\'s token is unknown here');
  for (const url of [`/setup/${h.token}x`, `/setup/${h.token.slice(0, -1)}`, `/setup/${h.token.toLowerCase()}`, '/setup/']) {
    t.equal((await h.app.inject({ url })).statusCode, 404, `near misses: ${url.slice(0, 20)}…`);
  }
  t.equal((await h.app.inject({ url: h.url })).statusCode, 200, 'the right token still opens it');
});

t.test('the link is one-time: after the first user is created it answers 404, also to a second form', async (t) => {
  const h = await setupApp(t);
  // Two forms opened before the first is sent: the second one is reused afterwards.
  const second = await openForm(h.app, h.url);
  t.equal((await createFirst(h.app, h.url, good)).response.statusCode, 303);
  t.equal((await h.app.inject({ url: h.url })).statusCode, 404, 'GET: 404');
  const reused = await post(h.app, h.url, { _csrf: second.csrf, ...good, name: 'bob' }, second.cookie);
  t.equal(reused.statusCode, 404, 'POST of a form opened before: 404');
  t.same(await userNames(h), ['ann'], 'nobody else was created');
});

t.test('once a user exists, created any other way, the link answers 404 and stays closed', async (t) => {
  const h = await setupApp(t);
  await insertUser(h.pool, 'carol', await hashPassword(PASSWORD)); // npm run user -- add, or another web process
  t.equal((await h.app.inject({ url: h.url })).statusCode, 404);
  const { response } = await createFirst(h.app, h.url, good);
  t.equal(response.statusCode, 404, 'and a POST too');
  await h.pool.query('delete from users');
  t.equal((await h.app.inject({ url: h.url })).statusCode, 404, 'closed for good: deleting every user does not reopen it');
  t.same(await userNames(h), []);
});

t.test('from another machine, or through a proxy, the link answers 404 unless SETUP_ALLOW_REMOTE=true', async (t) => {
  const h = await setupApp(t);
  t.equal((await h.app.inject({ url: h.url, remoteAddress: REMOTE })).statusCode, 404, 'another machine');
  t.equal((await h.app.inject({ url: h.url, remoteAddress: '::1' })).statusCode, 200, 'IPv6 loopback is this machine');
  t.equal((await h.app.inject({ url: h.url, headers: { 'x-forwarded-for': REMOTE } })).statusCode, 404, 'through a proxy on this machine');
  const local = await openForm(h.app, h.url);
  const fromAfar = await post(h.app, h.url, { _csrf: local.csrf, ...good }, local.cookie, REMOTE);
  t.equal(fromAfar.statusCode, 404, 'a POST from another machine, with a valid form');
  t.same(await userNames(h), []);

  const open = await setupApp(t, { SETUP_ALLOW_REMOTE: 'true' });
  t.equal((await open.app.inject({ url: open.url, remoteAddress: REMOTE })).statusCode, 200, 'allowed: the form opens from afar');
  t.equal((await createFirst(open.app, open.url, good, REMOTE)).response.statusCode, 303, 'and creates the user');
  t.same(await userNames(open), ['ann']);
});

t.test('a form without its CSRF token, or with a wrong one, is refused with 403 and creates nobody', async (t) => {
  const h = await setupApp(t);
  const { cookie, csrf } = await openForm(h.app, h.url);
  const missing = await post(h.app, h.url, good, cookie);
  t.equal(missing.statusCode, 403);
  t.match(missing.body, 'This form has expired or did not come from this site');
  t.equal((await post(h.app, h.url, { _csrf: `${csrf.slice(0, -2)}xx`, ...good }, cookie)).statusCode, 403, 'a wrong token');
  t.equal((await post(h.app, h.url, { _csrf: csrf, ...good }, '')).statusCode, 403, 'the right token without its cookie');
  t.same(await userNames(h), []);
  t.equal((await post(h.app, h.url, { _csrf: csrf, ...good }, cookie)).statusCode, 303, 'the real form still works');
});

t.test('setup attempts are rate limited per address (LOGIN_ATTEMPTS_PER_MINUTE)', async (t) => {
  const h = await setupApp(t, { LOGIN_ATTEMPTS_PER_MINUTE: '3' });
  const { cookie, csrf } = await openForm(h.app, h.url);
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await post(h.app, h.url, { _csrf: csrf, ...good, password_confirmation: 'not the same password' }, cookie)).statusCode);
  t.same(codes, [400, 400, 400, 429]);
  const refused = await post(h.app, h.url, { _csrf: csrf, ...good }, cookie);
  t.equal(refused.statusCode, 429, 'even a good form waits');
  t.match(refused.body, 'Too many attempts from your address');
  t.same(await userNames(h), []);
  const wrongTokens = [];
  for (let i = 0; i < 4; i++) wrongTokens.push((await h.app.inject({ url: `/setup/${'B'.repeat(43)}`, remoteAddress: '127.0.0.2' })).statusCode);
  t.same(wrongTokens, [404, 404, 404, 429], 'guessing tokens is rate limited too');
});

t.test('bad input is a 400 with a sentence and the form again, and creates nobody', async (t) => {
  const h = await setupApp(t);
  const cases: [string, Record<string, string | undefined>, string][] = [
    ['passwords that differ', { password_confirmation: `${PASSWORD}!` }, 'The two passwords differ.'],
    ['a short password', { password: 'short', password_confirmation: 'short' }, 'The password must be at least 10 characters long.'],
    ['a long password', { password: 'x'.repeat(1025), password_confirmation: 'x'.repeat(1025) }, 'The password must be at most 1024 characters long.'],
    ['no password', { password: undefined, password_confirmation: undefined }, 'Enter a password.'],
    ['no confirmation', { password_confirmation: undefined }, 'The two passwords differ.'],
    ['no name', { name: undefined }, 'Enter a user name.'],
    ['a blank name', { name: '   ' }, 'Enter a user name.'],
    ['a control character in the name', { name: 'an\u0007n' }, 'The user name must not contain control characters.'],
    ['a NUL in the name', { name: 'ann\u0000' }, 'The user name must not contain control characters.'],
    ['a control character in the password', { password: `${PASSWORD}\t`, password_confirmation: `${PASSWORD}\t` }, 'The password must not contain control characters'],
    ['a space in the name', { name: 'ann smith' }, 'The user name may have only letters, digits and . _ @ -, up to 64 characters.'],
    ['a name too long', { name: 'a'.repeat(65) }, 'up to 64 characters'],
  ];
  for (const [label, change, sentence] of cases) {
    const fields = Object.fromEntries(Object.entries({ ...good, ...change }).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const { response } = await createFirst(h.app, h.url, fields);
    t.equal(response.statusCode, 400, label);
    t.match(unescapeHtml(response.body), sentence, `${label}: says why`);
    t.match(response.body, /<form class="login" method="post" action="\/setup\//, `${label}: the form again`);
    t.notOk(response.cookies.some((c) => c.name === 'tanktop_session'), `${label}: no session`);
  }
  const { response } = await createFirst(h.app, h.url, { ...good, password_confirmation: 'different password' });
  t.match(response.body, 'name="name" value="ann"', 'the name typed is kept');
  t.notMatch(response.body, PASSWORD, 'the passwords are not');
  t.same(await userNames(h), [], 'nobody was created');
  t.equal((await createFirst(h.app, h.url, good)).response.statusCode, 303, 'and the link still works');
});

t.test('concurrent forms, on two web processes with their own tokens, create exactly one user', async (t) => {
  const database = await freshDatabase(t, { poolSize: 8 });
  const [a, b] = [await setupApp(t, {}, { database }), await setupApp(t, {}, { database })];
  t.not(a.token, b.token, 'each process has its own token');
  const forms = await Promise.all([a, a, b, b].map(async (h) => ({ h, ...await openForm(h.app, h.url) })));
  const responses = await Promise.all(forms.map(({ h, cookie, csrf }, i) => post(h.app, h.url, { _csrf: csrf, ...good, name: `user${i}` }, cookie)));
  const codes = responses.map((r) => r.statusCode).sort();
  t.same(codes, [303, 404, 404, 404], 'one is created; the others are too late');
  t.equal((await userNames(database)).length, 1, 'exactly one user');
  t.equal((await a.app.inject({ url: a.url })).statusCode, 404, 'both links are closed now');
  t.equal((await b.app.inject({ url: b.url })).statusCode, 404);
});

t.test('insertFirstUser: of many truly concurrent callers exactly one creates a user, round after round', async (t) => {
  const database = await freshDatabase(t, { poolSize: 16 });
  const hash = await hashPassword(PASSWORD);
  for (let round = 0; round < 5; round++) {
    await database.pool.query('delete from users');
    // Every caller holds its connection first, so the inserts overlap as much as they can.
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => insertFirstUser(database.pool, `u${round}_${i}`, hash)));
    t.equal(results.filter(Boolean).length, 1, `round ${round}: one caller created the user`);
    t.equal((await userNames(database)).length, 1, `round ${round}: one row`);
  }
  t.equal(await insertFirstUser(database.pool, 'late', hash), undefined, 'with a user present, nothing');
});

t.test('the token and the password never reach the logs; the creation does', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _encoding, done) { lines.push(chunk.toString()); done(); } });
  const log = pino({ level: 'trace' }, sink);
  const h = await setupApp(t, {}, { log });
  await createFirst(h.app, h.url, { ...good, password_confirmation: 'mismatch mismatch' });
  await createFirst(h.app, h.url, good);
  await h.app.inject({ url: h.url });
  await h.app.inject({ url: `/setup/${h.token.slice(0, -1)}Z` });
  const text = lines.join('');
  t.match(text, '"url":"/setup/[token]"', 'requests are logged, with the path redacted');
  t.match(text, 'first user created through the setup link');
  t.notMatch(text, h.token, 'not the token');
  t.notMatch(text, h.token.slice(0, -1), 'nor a near miss of it');
  t.notMatch(text, PASSWORD, 'nor the password');
});

t.test('the login page points to the setup link while there are no users, only for this machine', async (t) => {
  const h = await setupApp(t);
  const login = await h.app.inject({ url: '/login' });
  t.equal(login.statusCode, 200);
  t.match(login.body, 'data-first-user="link"');
  t.match(login.body, 'one-time setup link that <code>make start</code> printed in its console');
  t.notMatch((await h.app.inject({ url: '/login', remoteAddress: REMOTE })).body, 'data-first-user', 'not to the world');
  const page = await h.app.inject({ url: '/login' });
  const failed = await h.app.inject({
    method: 'POST', url: '/login', headers: { cookie: cookieHeader(page), 'content-type': FORM },
    payload: new URLSearchParams({ _csrf: formToken(page.body), name: 'ann', password: PASSWORD }).toString(),
  });
  t.equal(failed.statusCode, 401);
  t.match(failed.body, 'data-first-user="link"', 'also after a failed sign-in');

  const { pool, db } = await freshDatabase(t);
  const idle = await build(loadConfig({}), { pool, db, log: testLog });
  t.teardown(() => idle.close());
  const noLink = await idle.inject({ url: '/login' });
  t.match(noLink.body, 'data-first-user="command"', 'no link printed by this process: the command');
  t.match(noLink.body, 'npm run user -- add NAME');

  await createFirst(h.app, h.url, good);
  t.notMatch((await h.app.inject({ url: '/login' })).body, 'data-first-user', 'a user exists: no hint');
});
