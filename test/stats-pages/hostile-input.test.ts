import t from 'tap';
import { cookieHeader, formToken, harness, PASSWORD } from './app-harness.ts';
import { loadFixture } from './fixture.ts';

const HTML = { accept: 'text/html,application/xhtml+xml' };
/** What the database says, which a client must never read. */
const RAW_DATABASE_TEXT = /date\/time field|out of range:|invalid byte sequence|22021|22008|SQLSTATE|at .*\.ts:\d+/;

t.test('hostile query, path and form values get a 400 sentence before any SQL, never a hang, a 500 or the database\'s text', async (t) => {
  const h = await harness(t);
  await loadFixture(h.pool);
  const customer = (await h.pool.query<{ id: string }>('select min(id)::text as id from customers')).rows[0]!.id;

  /** GETs the URL and checks it is a 400 saying `sentence`, as HTML (or JSON under /api, /healthz). */
  async function refused(url: string, sentence: string | RegExp) {
    const started = Date.now();
    const response = await h.get(url, HTML);
    t.equal(response.statusCode, 400, `${url}: 400`);
    t.ok(Date.now() - started < 5_000, `${url}: answered at once`);
    const json = url.startsWith('/api/') || url.startsWith('/healthz');
    t.match(response.headers['content-type'], json ? /^application\/json/ : /^text\/html/, `${url}: ${json ? 'JSON' : 'an HTML page'}`);
    const message = json ? response.json().message : response.body.replace(/&quot;/g, '"');
    t.match(message, sentence, `${url}: says why`);
    if (json) t.equal(response.json().error, 'bad_request', `${url}: no SQLSTATE as the error code`);
    t.notMatch(response.body, RAW_DATABASE_TEXT, `${url}: no database text`);
  }

  t.test('defect: a range at the end of the calendar (9999-12-20 to 9999-12-31) is refused, on every drill-down form and the pivot', async () => {
    const range = 'from=9999-12-20&to=9999-12-31';
    const beyond = '"from" must be a date from 2000-01-01 to 2999-12-31, not 9999-12-20.';
    for (const url of [
      `/stats/customers/${customer}?${range}`, `/stats/customers/${customer}.csv?${range}`, `/api/stats/customers/${customer}?${range}`,
      `/stats/customers?view=pivot&${range}`, `/api/stats/customers?view=pivot&${range}`, `/stats/customers.csv?${range}`, `/?${range}`,
    ]) await refused(url, beyond);
    await refused('/stats/products?from=2999-12-31&view=pivot&to=3000-01-01', '"to" must be a date from 2000-01-01 to 2999-12-31, not 3000-01-01.');
    const lastDays = await h.get('/api/stats/customers?view=pivot&from=2999-12-20');
    t.equal(lastDays.statusCode, 200, 'one end near the last day: the range stops at 2999-12-31');
    t.equal(lastDays.json().days.at(-1), '2999-12-31');
  });

  t.test('defect: a NUL (or any control character) in q is refused on every stats page, CSV and API, and on the operations list', async () => {
    for (const slug of ['agents', 'products', 'customers']) {
      for (const url of [`/stats/${slug}?q=%00`, `/stats/${slug}.csv?q=%00`, `/api/stats/${slug}?q=%00`, `/stats/${slug}?view=pivot&q=a%00b`, `/api/stats/${slug}?view=pivot&q=%00`]) {
        await refused(url, 'The parameter "q" contains a control character (U+0000)');
      }
    }
    await refused('/api/stats/agents?q=%0D%0A', 'The parameter "q" contains a control character (U+000D)');
    await refused('/api/stats/agents?q=%C2%85', 'The parameter "q" contains a control character (U+0085)');
    await refused('/ops/orders?q=%00', 'The parameter "q" contains a control character (U+0000)');
    const emoji = await h.get('/api/stats/agents?q=%F0%9F%9A%9A&from=2026-03-01&to=2026-03-10');
    t.equal(emoji.statusCode, 200, 'an emoji is text, not a control character');
  });

  t.test('defect: dates at the ends of the calendar are a 400 before the CSV starts, and the HTML and JSON say so in our words', async () => {
    for (const url of ['/stats/products.csv?to=0001-01-01', '/stats/products?to=0001-01-01', '/api/stats/products?to=0001-01-01']) {
      await refused(url, '"to" must be a date from 2000-01-01 to 2999-12-31, not 0001-01-01.');
    }
    const csv = await h.get('/stats/products.csv?to=0001-01-01');
    t.notOk(csv.headers['content-disposition'], 'no download started');
    await refused('/stats/products.csv?from=1999-12-31', '"from" must be a date from 2000-01-01 to 2999-12-31');
    const first = await h.get('/api/stats/products?to=2000-01-05');
    t.equal(first.statusCode, 200, 'one end near the first day: the range starts at 2000-01-01');
    t.equal(first.json().from, '2000-01-01');
    await refused('/ops/orders?to=0001-01-01', '"to" must be a date from 2000-01-01 to 2999-12-31');
    t.equal((await h.get('/ops/orders?from=2999-12-31')).statusCode, 200, 'the list from the last day: its range stops there');
  });

  t.test('every route: a repeated parameter, a control character in the path, and out-of-range ids are 400s', async () => {
    for (const url of ['/?from=2026-03-01&from=2026-03-02', '/stats/agents?q=a&q=b', '/api/stats/agents?page=1&page=2', `/stats/customers/${customer}?to=2026-03-01&to=2026-03-02`,
      '/ops/orders?payment=paid&payment=expired', '/ops/dead-letters?queue=a&queue=b', '/healthz?x=1&x=2']) {
      await refused(url, /is given more than once/);
    }
    await refused('/stats/agents/%00', 'The path segment "id" contains a control character (U+0000)');
    await refused('/ops/orders/1%0A', 'The path segment "ref" contains a control character (U+000A)');
    await refused('/stats/agents/0', '"0" is not a sales agent id');
    await refused('/api/stats/agents/9223372036854775808', 'is not a sales agent id');
    await refused('/ops/orders/9223372036854775808', 'is neither an order id');
    await refused('/ops/invoices/0/pdf', '"0" is not an invoice id');
    await refused('/healthz?probe=%00', 'The parameter "probe" contains a control character (U+0000)');
    await refused(`/stats/agents?q=${'x'.repeat(2001)}`, 'is longer than 2000 characters');
    await refused(`/stats/agents?${Array.from({ length: 51 }, (_, i) => `p${i}=1`).join('&')}`, 'at most 50 parameters');
    const broken = await h.get('/stats/agents/%E0%A4%A', HTML);
    t.equal(broken.statusCode, 400, 'a broken %-escape in the path (refused by Fastify before routing)');
    t.match(broken.body, 'This address is not valid: it has a broken %-escape.', 'in our words');
    t.notMatch(broken.body, 'FST_ERR', 'not Fastify\'s code');
    const existing = await h.get(`/api/stats/customers/00${customer}?from=2026-03-01&to=2026-03-10`);
    t.equal(existing.statusCode, 200, 'leading zeros are the same id');
  });

  t.test('sign-in: a NUL in the name or password is a 400 sentence, not a database error', async () => {
    for (const field of ['name', 'password']) {
      const page = await h.app.inject({ url: '/login' });
      const cookie = cookieHeader(page);
      const fields = { _csrf: formToken(page.body), name: 'ann', password: PASSWORD, [field]: 'ann\0' };
      const response = await h.app.inject({
        method: 'POST', url: '/login', headers: { ...HTML, cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });
      t.equal(response.statusCode, 400, `${field}: 400`);
      t.match(response.body.replace(/&quot;/g, '"'), `The field "${field}" contains a control character (U+0000)`);
      t.notOk(response.cookies.some((c) => c.name === 'tanktop_session'), `${field}: no session`);
    }
    const json = await h.app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/json' }, payload: '{"name":{"$ne":1}}' });
    t.equal(json.statusCode, 400, 'a JSON object where text belongs');
    t.match(json.body, 'must be text');
  });
});
