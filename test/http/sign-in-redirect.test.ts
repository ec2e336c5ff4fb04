import t from 'tap';
import { safeNext } from '../../src/auth/auth.routes.ts';
import { cookieHeader, formToken, harness, PASSWORD } from '../stats-pages/app-harness.ts';

/** Addresses a browser would follow off the site (or that cannot be a header), each with why. */
const offSite: [string, unknown][] = [
  ['protocol-relative', '//evil.example/'],
  ['absolute', 'https://evil.example/'],
  ['a scheme', 'javascript:alert(1)'],
  ['a backslash (read as a slash)', '/\\evil.example'],
  ['a backslash later on', '/x/..\\..\\\\evil.example'],
  ['a tab after the slash (browsers drop it)', '/\t/evil.example'],
  ['a newline after the slash', '/\n/evil.example'],
  ['a carriage return', '/\r/evil.example'],
  ['CR LF: a header injection', '/\r\nSet-Cookie: a=b'],
  ['a NUL', '/\0/evil.example'],
  ['a space', '/ /evil.example'],
  ['a non-breaking space', '/\u00a0/evil.example'],
  ['non-ASCII', '/ｅvil'],
  ['a leading space', ' //evil.example'],
  ['no leading slash', 'evil.example'],
  ['empty', ''],
  ['too long', `/${'a'.repeat(2000)}`],
  ['not text', ['/stats']],
  ['missing', undefined],
];

/** Paths on this site, kept exactly as given. */
const onSite = [
  '/', '/stats/agents?from=2026-03-01&to=2026-03-10', '/stats/customers/12?from=2026-03-01#chart',
  '/%2F%2Fevil.example', '/%09/evil.example', '/..//evil.example', '/stats/agents?q=caf%C3%A9',
];

t.test('safeNext keeps paths on this site as given and turns everything else into /', async (t) => {
  for (const [why, next] of offSite) t.equal(safeNext(next), '/', why);
  for (const next of onSite) t.equal(safeNext(next), next, next);
});

t.test('signing in with a hostile next goes to / (or is refused), never off the site', async (t) => {
  const h = await harness(t);
  const hostile = ['/\t/evil.example', '/\\evil.example', '//evil.example', '/\r\n/evil.example', 'https://evil.example'];
  for (const next of hostile) {
    const page = await h.app.inject({ url: '/login' });
    const cookie = cookieHeader(page);
    const response = await h.app.inject({
      method: 'POST', url: '/login', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: formToken(page.body), name: 'ann', password: PASSWORD, next }).toString(),
    });
    const shown = JSON.stringify(next);
    if (response.statusCode === 400) {
      t.notOk(response.headers.location, `${shown}: refused, no redirect`);
      t.match(response.body, /control character/, `${shown}: the page says why`);
    } else {
      t.equal(response.statusCode, 303, `${shown}: signed in`);
      t.equal(response.headers.location, '/', `${shown}: to the overview`);
    }
  }
  const page = await h.app.inject({ url: '/login?next=%2F%5Cevil.example' });
  t.match(page.body, 'name="next" value="/"', 'the sign-in form does not carry a hostile next either');
});

t.test('a page opened signed out goes to /login with next only when the sign-in would go back there', async (t) => {
  const h = await harness(t);
  const short = await h.app.inject({ url: '/stats/agents?from=2026-03-01&to=2026-03-10' });
  t.equal(short.statusCode, 303);
  t.equal(short.headers.location, `/login?next=${encodeURIComponent('/stats/agents?from=2026-03-01&to=2026-03-10')}`, 'an ordinary address is kept');
  // Found by the route fuzz test: a query of kilobytes became a Location header too large for Node's HTTP client (16 KB).
  const long = await h.app.inject({ url: `/stats/customers.csv?x=${'%E0%A0%80'.repeat(2000)}` });
  t.equal(long.statusCode, 303);
  t.equal(long.headers.location, '/login', 'an address longer than /login would go back to is dropped');
});
