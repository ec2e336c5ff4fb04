import t from 'tap';
import { fold } from '../helpers/rollups.ts';
import { harness, unescapeHtml } from './app-harness.ts';
import { expectedRows, formulaCustomer, loadFixture, trickyAgent } from './fixture.ts';

const RANGE = 'from=2026-03-01&to=2026-03-10';

interface JsonRow { day: string; id: string; name: string; sales_count: number; total_price: string }

/** The rows and totals shown in an HTML table page, as printed. */
function htmlRows(html: string) {
  const rows = [...html.matchAll(/<tr data-day="([^"]+)">\s*<td><time[^>]*>[^<]*<\/time><\/td>\s*<td><a href="[^"]*">([^<]*)<\/a><\/td>\s*<td class="num">([^<]*)<\/td>\s*<td class="num">([^<]*)<\/td>/g)]
    .map(([, day, name, count, total]) => ({ day, name: unescapeHtml(name!), count, total }));
  const totalCount = /data-total="count">([^<]*)</.exec(html)?.[1];
  const totalPrice = /data-total="total">([^<]*)</.exec(html)?.[1];
  return { rows, totalCount, totalPrice };
}

function display(total: string): string {
  const [whole, cents] = total.split('.');
  return `${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}

t.test('stats pages over a small fixture', async (t) => {
  const h = await harness(t);
  await loadFixture(h.pool);

  for (const slug of ['agents', 'products', 'customers'] as const) {
    t.test(`${slug}: every (day, entity) row equals a GROUP BY over sales, in HTML, JSON and CSV`, async (t) => {
      const expected = await expectedRows(h.pool, slug, '2026-03-01', '2026-03-10');
      t.ok(expected.length > 5);
      const json = (await h.get(`/api/stats/${slug}?${RANGE}&per_page=500`)).json();
      t.same(json.rows.map((r: JsonRow) => ({ day: r.day, id: r.id, name: r.name, sales_count: r.sales_count, total_price: r.total_price })), expected);
      const sumCents = expected.reduce((sum, r) => sum + BigInt(r.total_price.replace('.', '')), 0n);
      t.equal(json.totals.sales_count, expected.reduce((n, r) => n + r.sales_count, 0));
      t.equal(json.totals.total_price, `${sumCents / 100n}.${String(sumCents % 100n).padStart(2, '0')}`);

      const page = await h.get(`/stats/${slug}?${RANGE}&per_page=500`);
      t.equal(page.statusCode, 200);
      const shown = htmlRows(page.body);
      t.same(shown.rows.map((r) => [r.day, r.name, r.count, r.total]), expected.map((r) => [r.day, r.name, String(r.sales_count), display(r.total_price)]));
      t.equal(shown.totalCount, String(json.totals.sales_count));
      t.equal(shown.totalPrice, display(json.totals.total_price));

      const csv = await h.get(`/stats/${slug}.csv?${RANGE}`);
      t.equal(csv.statusCode, 200);
      t.match(csv.headers['content-type'], /^text\/csv/);
      t.match(csv.headers['content-disposition'], /attachment; filename="/);
      const lines = csv.body.split('\r\n');
      t.equal(lines.at(-1), '', 'every line ends with CRLF');
      t.equal(lines.length - 2, expected.length, 'a header, then one line per row');
    });
  }

  t.test('CSV quotes per RFC 4180 and defuses formulas; a name with markup and emoji is one field', async (t) => {
    const csv = (await h.get(`/stats/customers.csv?${RANGE}&q=hyperlink`)).body;
    t.match(csv, `,"'=HYPERLINK(""http://evil.example"",""click""), ""Smith""",`);
    const agents = (await h.get(`/stats/agents.csv?${RANGE}&q=script`)).body;
    t.match(agents, `,<script>alert("x")</script> & Sons 'Ltd' 🚚,`.replace(/"/g, '""').replace(',<', ',"<').replace('🚚,', '🚚",'));
  });

  t.test('names with HTML, quotes and emoji render as text', async (t) => {
    const page = await h.get(`/stats/agents?${RANGE}`);
    t.notMatch(page.body, '<script>alert');
    t.match(page.body, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons &#x27;Ltd&#x27; 🚚');
    t.match((await h.get(`/stats/customers?${RANGE}`)).body, '&#x3D;HYPERLINK(&quot;http://evil.example&quot;');
  });

  t.test('every sort key, both ways, gives a total order; CSV follows it over all pages', async (t) => {
    const keyOf: Record<string, (r: JsonRow) => string | number> = { day: (r) => r.day, name: (r) => r.name, count: (r) => r.sales_count, total: (r) => Number(r.total_price) };
    for (const slug of ['agents', 'customers']) {
      for (const sort of ['day', 'name', 'count', 'total'] as const) {
        for (const dir of ['asc', 'desc'] as const) {
          const all: JsonRow[] = (await h.get(`/api/stats/${slug}?${RANGE}&sort=${sort}&dir=${dir}&per_page=500`)).json().rows;
          const keys = all.map(keyOf[sort]!);
          const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          if (dir === 'desc') sorted.reverse();
          t.same(keys, sorted, `${slug} sorted by ${sort} ${dir}`);
          const paged: JsonRow[] = [];
          for (let page = 1; ; page++) {
            const json = (await h.get(`/api/stats/${slug}?${RANGE}&sort=${sort}&dir=${dir}&per_page=4&page=${page}`)).json();
            paged.push(...json.rows);
            if (!json.has_next_page) break;
          }
          t.same(paged, all, `pages of 4 join up to the whole list (${slug}, ${sort} ${dir})`);
          const csvIds = (await h.get(`/stats/${slug}.csv?${RANGE}&sort=${sort}&dir=${dir}`)).body.trim().split('\r\n').slice(1)
            .map((line) => line.split(',')[1]);
          t.same(csvIds, all.map((r) => r.id), `CSV in the same order (${slug}, ${sort} ${dir})`);
        }
      }
    }
  });

  t.test('pagination edges: the last page has no next link; one past it is a 404 with a sentence', async (t) => {
    const total = (await h.get(`/api/stats/agents?${RANGE}&per_page=500`)).json().rows.length;
    const perPage = 3;
    const last = Math.ceil(total / perPage);
    const lastPage = await h.get(`/stats/agents?${RANGE}&per_page=${perPage}&page=${last}`);
    t.equal(lastPage.statusCode, 200);
    t.match(lastPage.body, '<span class="disabled">Next →</span>');
    t.match(lastPage.body, 'rel="prev"');
    const past = await h.get(`/stats/agents?${RANGE}&per_page=${perPage}&page=${last + 1}`);
    t.equal(past.statusCode, 404);
    t.match(past.body, `Page ${last + 1} is past the last page`);
    const firstPage = await h.get(`/stats/agents?${RANGE}&per_page=${perPage}`);
    t.match(firstPage.body, '<span class="disabled">← Previous</span>');
    t.equal(unescapeHtml(/rel="next" href="([^"]+)"/.exec(firstPage.body)?.[1] ?? ''),
      '/stats/agents?from=2026-03-01&to=2026-03-10&sort=day&dir=desc&per_page=3&page=2', 'links keep the filters');
    const empty = await h.get('/stats/agents?from=2020-01-01&to=2020-01-31');
    t.equal(empty.statusCode, 200, 'page 1 of nothing is an empty table, not an error');
    t.match(empty.body, 'No sales match these filters.');
  });

  t.test('q searches names case-insensitively; % and _ are literal; totals follow the filter', async (t) => {
    const json = (await h.get(`/api/stats/customers?${RANGE}&q=SMITH&per_page=500`)).json();
    t.ok(json.rows.length > 0);
    t.ok(json.rows.every((r: JsonRow) => /smith/i.test(r.name)));
    t.equal(json.totals.sales_count, json.rows.reduce((n: number, r: JsonRow) => n + r.sales_count, 0));
    t.equal(json.totals.rows, json.rows.length);
    const percent = (await h.get(`/api/stats/agents?${RANGE}&q=%25&per_page=500`)).json();
    t.ok(percent.rows.length > 0 && percent.rows.every((r: JsonRow) => r.name.includes('%')), '% matches only a literal %');
    t.same((await h.get(`/api/stats/agents?${RANGE}&q=nobody`)).json().rows, []);
  });

  t.test('the pivot has a column per day and row and column totals that add up', async (t) => {
    const page = await h.get(`/stats/products?${RANGE}&view=pivot`);
    t.equal(page.statusCode, 200);
    t.equal([...page.body.matchAll(/<th scope="col" class="num"><time/g)].length, 10, 'ten day columns');
    const json = (await h.get(`/api/stats/products?${RANGE}&view=pivot`)).json();
    const cellSum = json.values.reduce((n: number, c: { sales_count: string }) => n + Number(c.sales_count), 0);
    const columnSum = json.columnTotals.reduce((n: number, c: { sales_count: string }) => n + Number(c.sales_count), 0);
    t.equal(cellSum, Number(json.totals.sales_count));
    t.equal(columnSum, Number(json.totals.sales_count));
    t.equal((await h.get('/stats/products?from=2026-03-01&to=2026-04-01&view=pivot')).statusCode, 400, '32 days is too many for the pivot');
  });

  t.test('a drill-down lists every day with a chart; its CSV and JSON carry the same numbers', async (t) => {
    const expected = (await expectedRows(h.pool, 'products', '2026-03-01', '2026-03-10')).filter((r) => r.name === 'Gadget');
    const id = expected[0]!.id;
    const page = await h.get(`/stats/products/${id}?${RANGE}`);
    t.equal(page.statusCode, 200);
    t.match(page.body, /<svg role="img" aria-labelledby="[^"]+-title [^"]+-desc"/);
    t.match(page.body, '<title id="chart-product-');
    t.match(page.body, 'Daily totals from 2026-03-01 to 2026-03-10');
    const json = (await h.get(`/api/stats/products/${id}?${RANGE}`)).json();
    t.equal(json.days.length, 10, 'days without sales are listed as zeros');
    t.same(json.days.filter((d: { sales_count: number }) => d.sales_count > 0).map((d: { day: string; sales_count: number; total_price: string }) => [d.day, d.sales_count, d.total_price]),
      [...expected].reverse().map((r) => [r.day, r.sales_count, r.total_price]));
    const csv = (await h.get(`/stats/products/${id}.csv?${RANGE}`)).body.trim().split('\r\n');
    t.equal(csv.length, 11);
    t.same(csv.slice(1).map((line) => line.split(',').slice(3).join(',')), json.days.map((d: { sales_count: number; total_price: string }) => `${d.sales_count},${d.total_price}`));
  });

  t.test('the overview shows today, 7 and 30 days, a 90-day chart and the top 10s', async (t) => {
    await h.pool.query(`insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
      select (select min(id) from customers), (select min(id) from products), (select min(id) from sales_agents), 1234567.89, now()`);
    const page = await h.get('/');
    t.equal(page.statusCode, 200);
    t.match(page.body, /data-period-total>1,234,567.89</, 'today, with thousands separators and two decimals');
    t.match(page.body, 'Total sales per day, last 90 days');
    t.equal([...page.body.matchAll(/<section>\s*<h3>/g)].length, 3);
    await h.pool.query(`delete from sales where price = 1234567.89`);
  });

  t.test('unfolded deltas count: an insert shows at once, and a delete that empties a folded key hides it', async (t) => {
    await fold(h.pool);
    const before = (await h.get(`/api/stats/agents?${RANGE}&per_page=500`)).json();
    await h.pool.query(`insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
      select (select min(id) from customers), (select min(id) from products), (select min(id) from sales_agents), 1.00, '2026-03-04T12:00:00Z'`);
    const after = (await h.get(`/api/stats/agents?${RANGE}&per_page=500`)).json();
    t.equal(after.rows.length, before.rows.length + 1, 'the empty day now has a row, before any fold');
    t.equal(after.totals.sales_count, before.totals.sales_count + 1);
    await fold(h.pool);
    await h.pool.query(`delete from sales where created_at = '2026-03-04T12:00:00Z'`);
    const gone = (await h.get(`/api/stats/agents?${RANGE}&per_page=2&page=1&sort=day&dir=asc`)).json();
    t.notOk(gone.rows.some((r: JsonRow) => r.day === '2026-03-04'), 'a folded row emptied by a pending delta is not shown');
    t.same((await h.get(`/api/stats/agents?${RANGE}&per_page=500`)).json(), before);
  });

  t.test('ETag: unchanged pages answer 304; a sale, a fold that moved deltas or a rename change it', async (t) => {
    await fold(h.pool);
    const url = `/stats/customers?${RANGE}`;
    const first = await h.get(url);
    const etag = String(first.headers.etag);
    t.match(etag, /^W\/"/);
    t.equal(first.headers['cache-control'], 'private, no-cache');
    const again = await h.get(url, { 'if-none-match': etag });
    t.equal(again.statusCode, 304);
    t.equal(again.body, '');
    await fold(h.pool);
    t.equal((await h.get(url, { 'if-none-match': etag })).statusCode, 304, 'a fold with nothing to fold changes nothing');

    await h.pool.query(`insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
      select (select min(id) from customers), (select min(id) from products), (select min(id) from sales_agents), 2.00, '2026-03-05T12:00:00Z'`);
    const changed = await h.get(url, { 'if-none-match': etag });
    t.equal(changed.statusCode, 200, 'a new sale: a new page');
    const etag2 = String(changed.headers.etag);
    t.not(etag2, etag);
    await fold(h.pool);
    const afterFold = await h.get(url, { 'if-none-match': etag2 });
    t.equal(afterFold.statusCode, 200, 'a fold that moved deltas gets a new tag (same numbers, but never a stale one)');
    const etag3 = String(afterFold.headers.etag);
    await h.pool.query(`update customers set name = 'Carol Renamed' where name = 'Carol'`);
    const renamed = await h.get(url, { 'if-none-match': etag3 });
    t.equal(renamed.statusCode, 200);
    t.match(renamed.body, 'Carol Renamed');
    t.equal((await h.get(`/api/stats/customers?${RANGE}`, { 'if-none-match': etag3 })).statusCode, 200, 'the tag depends on the URL');
  });
});

t.test('bad input is a 4xx page with a sentence, never a 500 or a stack', async (t) => {
  const h = await harness(t);
  await loadFixture(h.pool);
  const cases: [string, number, string][] = [
    ['/stats/agents?from=2026-02-30', 400, '"from" must be a date written YYYY-MM-DD'],
    ['/stats/agents?to=yesterday', 400, '"to" must be a date'],
    ['/stats/agents?from=0000-01-01&to=0000-01-02', 400, '"from" must be a date'],
    ['/stats/agents?from=2026-03-10&to=2026-03-01', 400, 'The range starts (2026-03-10) after it ends (2026-03-01)'],
    ['/stats/agents?from=2024-01-01&to=2025-12-31', 400, 'covers 731 days; a page covers at most 366'],
    ['/stats/agents?sort=price', 400, 'sort must be one of day, name, count, total, not &quot;price&quot;'],
    ['/stats/agents?dir=up', 400, 'dir must be asc or desc'],
    ['/stats/agents?page=0', 400, 'page must be a whole number from 1'],
    ['/stats/agents?page=abc', 400, 'page must be a whole number'],
    ['/stats/agents?per_page=100000', 400, 'per_page must be a whole number from 1 to 500'],
    ['/stats/agents?view=chart', 400, 'view must be table or pivot'],
    ['/stats/agents?view=pivot&sort=day', 400, 'sorts by name, count or total'],
    ['/stats/agents?colour=red', 400, 'There is no parameter &quot;colour&quot;'],
    ['/stats/agents?from=2026-03-01&from=2026-03-02', 400, 'is given more than once'],
    [`/stats/agents?q=${'x'.repeat(101)}`, 400, 'longer than 100 characters'],
    [`/stats/agents?${RANGE}&page=99`, 404, 'Page 99 is past the last page'],
    ['/stats/agents/abc', 400, '&quot;abc&quot; is not a sales agent id'],
    ['/stats/agents/99999999999999999999', 400, 'is not a sales agent id'],
    ['/stats/agents/424242', 404, 'There is no sales agent with id 424242.'],
    ['/stats/customers/12.csv?from=x', 400, '"from" must be a date'.replace(/"/g, '&quot;')],
    ['/stats/agents/1?sort=name', 400, 'There is no parameter &quot;sort&quot; on this page'],
    ['/stats/widgets', 404, 'There is no page at /stats/widgets.'],
  ];
  for (const [url, status, sentence] of cases) {
    const response = await h.get(url, { accept: 'text/html,application/xhtml+xml' });
    t.equal(response.statusCode, status, `${url}: ${status}`);
    t.match(response.headers['content-type'], /^text\/html/, `${url}: an HTML page`);
    t.match(response.body, sentence.replace(/"/g, '&quot;'), `${url}: says why`);
    t.notMatch(response.body, /at .*\.ts:\d+|node_modules/, `${url}: no stack`);
  }
  const api = await h.get('/api/stats/agents?from=nope');
  t.equal(api.statusCode, 400);
  t.match(api.json(), { statusCode: 400, error: 'bad_request', message: /"from" must be a date/ });
  t.equal((await h.get('/api/stats/agents/7777')).statusCode, 404);
});
