import t from 'tap';
import { hashPassword } from '../../src/auth/password.ts';
import { insertUser } from '../../src/auth/users.repository.ts';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { runCliWithStdin as runCli } from './run-with-stdin.ts';
import { PASSWORD, cookieHeader, formToken, harness } from '../stats-pages/app-harness.ts';

t.test('without a session every page redirects to the sign-in, the API says 401, /healthz stays public', async (t) => {
  const h = await harness(t);
  for (const url of ['/', '/stats/agents?from=2026-03-01', '/stats/customers/1', '/stats/products.csv']) {
    const response = await h.app.inject({ url });
    t.equal(response.statusCode, 303, url);
    t.equal(response.headers.location, `/login?next=${encodeURIComponent(url)}`);
  }
  const api = await h.app.inject({ url: '/api/stats/agents' });
  t.equal(api.statusCode, 401);
  t.match(api.json().message, 'Sign in first');
  t.equal((await h.app.inject({ url: '/healthz' })).statusCode, 200);
  t.equal((await h.app.inject({ url: '/static/style.css' })).statusCode, 200, 'the stylesheet is public');
  t.equal((await h.app.inject({ url: '/', headers: { cookie: 'tanktop_session=forged-token-forged-token-forged-token-forg' } })).statusCode, 303, 'a made-up token is no session');
});

t.test('signing in sets an HttpOnly, SameSite session cookie and goes to the page asked for', async (t) => {
  const h = await harness(t);
  const { response } = await h.login('ANN', PASSWORD);
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/');
  const session = (response.cookies as { name: string; httpOnly?: boolean; sameSite?: string; secure?: boolean }[]).find((c) => c.name === 'tanktop_session');
  t.match(session, { httpOnly: true, sameSite: 'Lax' });
  t.notOk(session?.secure, 'plain http: not Secure (the browser would drop it)');
  t.equal((await h.get('/')).statusCode, 200);
  const { rows } = await h.pool.query('select token_hash from user_sessions');
  t.ok(rows.length >= 2 && rows.every((row) => row.token_hash.length === 32), 'only SHA-256 hashes of tokens are stored');
});

t.test('behind a TLS proxy (TRUST_PROXY=true) the cookie is Secure', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const app = await build(loadConfig({ TRUST_PROXY: 'true' }), { pool, db, log: testLog });
  t.teardown(() => app.close());
  await insertUser(pool, 'bob', await hashPassword(PASSWORD));
  const headers = { 'x-forwarded-proto': 'https' };
  const page = await app.inject({ url: '/login', headers });
  const cookie = cookieHeader(page);
  const response = await app.inject({
    method: 'POST', url: '/login', headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: formToken(page.body), name: 'bob', password: PASSWORD }).toString(),
  });
  t.equal(response.statusCode, 303);
  t.match(response.cookies.find((c) => c.name === 'tanktop_session'), { secure: true, httpOnly: true });
});

t.test('a wrong password or unknown name is refused with one sentence, and no session', async (t) => {
  const h = await harness(t);
  for (const [name, password] of [['ann', 'wrong password!'], ['nobody', PASSWORD]]) {
    const { response } = await h.login(name!, password!);
    t.equal(response.statusCode, 401);
    t.match(response.body, 'That user name and password do not match.');
    t.notOk(response.cookies.some((c) => c.name === 'tanktop_session'));
  }
});

t.test('a sign-in or sign-out without the CSRF token is refused with 403', async (t) => {
  const h = await harness(t);
  const page = await h.app.inject({ url: '/login' });
  const forged = await h.app.inject({
    method: 'POST', url: '/login', headers: { cookie: cookieHeader(page), 'content-type': 'application/x-www-form-urlencoded' },
    payload: `name=ann&password=${encodeURIComponent(PASSWORD)}`,
  });
  t.equal(forged.statusCode, 403);
  t.match(forged.body, 'This form has expired or did not come from this site');
  const logout = await h.app.inject({ method: 'POST', url: '/logout', headers: { cookie: h.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: '_csrf=made-up' });
  t.equal(logout.statusCode, 403);
  t.equal((await h.get('/')).statusCode, 200, 'still signed in');
});

t.test('signing out ends the session on the server: the old cookie no longer works', async (t) => {
  const h = await harness(t);
  const page = await h.get('/');
  const response = await h.app.inject({
    method: 'POST', url: '/logout', headers: { cookie: h.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: `_csrf=${encodeURIComponent(formToken(page.body))}`,
  });
  t.equal(response.statusCode, 303);
  t.equal(response.headers.location, '/login');
  t.equal((await h.get('/')).statusCode, 303, 'the same cookie replayed is no session');
});

t.test('a session ended in the database stops working within the session cache time (2 s)', async (t) => {
  const h = await harness(t);
  t.equal((await h.get('/')).statusCode, 200);
  await h.pool.query('delete from user_sessions');
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  t.equal((await h.get('/')).statusCode, 303, 'redirected to the sign-in');
});

t.test('sign-in attempts are rate limited per address', async (t) => {
  const h = await harness(t, { LOGIN_ATTEMPTS_PER_MINUTE: '3' });
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await h.login('ann', 'wrong password!')).response.statusCode);
  t.same(codes, [401, 401, 429, 429, 429], 'the harness used one attempt; then two more, then refused');
  const refused = await h.login('ann', PASSWORD);
  t.equal(refused.response.statusCode, 429, 'even the right password waits');
  t.match(refused.response.body, 'Too many sign-in attempts');
});

t.test('sign-in never redirects off the site', async (t) => {
  const { safeNext } = await import('../../src/auth/auth.routes.ts');
  t.equal(safeNext('/stats/agents?from=2026-03-01'), '/stats/agents?from=2026-03-01');
  for (const evil of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', undefined]) t.equal(safeNext(evil), '/');
});

t.test('npm run user -- add NAME creates a user from stdin; refuses duplicates and short passwords', async (t) => {
  const { url, pool } = await freshDatabase(t);
  const env = { DATABASE_URL: url };
  let result = await runCli('user', ['add', 'carol'], env, `${PASSWORD}\n`);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, 'created user carol');
  const { rows } = await pool.query('select password_hash from users where name = $1', ['carol']);
  t.match(rows[0].password_hash, /^scrypt\$131072\$8\$1\$/);
  t.notMatch(rows[0].password_hash, PASSWORD);
  result = await runCli('user', ['add', 'Carol'], env, `${PASSWORD}\n`);
  t.equal(result.code, 1);
  t.match(result.stderr, 'a user named "Carol" already exists');
  result = await runCli('user', ['add', 'dave'], env, 'short\n');
  t.equal(result.code, 1);
  t.match(result.stderr, 'at least 10 characters');
  result = await runCli('user', ['add', '<bad name>'], env, `${PASSWORD}\n`);
  t.equal(result.code, 2);
  result = await runCli('user', [], env);
  t.equal(result.code, 2);
  t.match(result.stderr, 'say add NAME');
});
