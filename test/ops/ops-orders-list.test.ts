import t from 'tap';
import { unescapeHtml } from '../stats-pages/app-harness.ts';
import { opsHarness, type OpsHarness } from './ops-harness.ts';

/** The order ids of the list page, top to bottom. */
function listed(html: string): string[] {
  return [...html.matchAll(/<tr data-order-id="(\d+)">/g)].map((m) => m[1]!);
}

function countShown(html: string, key: string): string | undefined {
  return new RegExp(`data-count="${key}">([^<]*)<`).exec(html)?.[1];
}

async function orderAt(h: OpsHarness, created: string, changes: { payment?: string; fulfilment?: string; review?: string; email?: string; name?: string } = {}): Promise<string> {
  const id = await h.order({ paymentState: changes.payment });
  await h.pool.query(
    `update orders set created_at = $2, fulfilment_state = coalesce($3::text, fulfilment_state),
       needs_review = $4::text is not null, review_reason = $4::text, customer_email = coalesce($5::text, customer_email), customer_name = coalesce($6::text, customer_name)
     where id = $1`,
    [id, created, changes.fulfilment ?? null, changes.review ?? null, changes.email ?? null, changes.name ?? null]);
  return id;
}

t.test('the orders list', async (t) => {
  const h = await opsHarness(t);
  const old = await orderAt(h, '2025-01-01T10:00:00Z', { payment: 'expired', email: 'old@example.com' });
  const a = await orderAt(h, '2026-03-01T12:00:00Z', { payment: 'paid', email: 'alpha@example.com' });
  const b = await orderAt(h, '2026-03-05T00:00:00Z', { review: 'the gateway reported 1.00 EUR', email: 'b_100%@example.com' });
  const c = await orderAt(h, '2026-03-10T23:59:59Z', { payment: 'payment_failed', fulfilment: 'submitted', email: 'gamma@example.com', name: '<script>alert("x")</script> & Sons' });
  const d = await orderAt(h, '2026-03-11T00:00:00Z', { payment: 'paid', email: 'delta@example.com' });

  t.test('lists every order newest first, with counts per state', async (t) => {
    const page = await h.get('/ops/orders');
    t.equal(page.statusCode, 200);
    t.same(listed(page.body), [d, c, b, a, old]);
    t.equal(countShown(page.body, 'total'), '5');
    t.equal(countShown(page.body, 'payment-paid'), '2');
    t.equal(countShown(page.body, 'payment-pending_payment'), '1');
    t.equal(countShown(page.body, 'payment-refunded'), '0', 'states without orders count 0');
    t.equal(countShown(page.body, 'fulfilment-submitted'), '1');
    t.equal(countShown(page.body, 'review'), '1');
    t.equal(page.headers['cache-control'], 'private, no-store');
  });

  t.test('filters by payment state, fulfilment state and the review flag', async (t) => {
    t.same(listed((await h.get('/ops/orders?payment=paid')).body), [d, a]);
    t.same(listed((await h.get('/ops/orders?fulfilment=submitted')).body), [c]);
    t.same(listed((await h.get('/ops/orders?review=yes')).body), [b]);
    t.same(listed((await h.get('/ops/orders?review=no&payment=paid')).body), [d, a]);
    t.same(listed((await h.get('/ops/orders?payment=refunded')).body), []);
    t.match((await h.get('/ops/orders?payment=refunded')).body, 'No orders match these filters.');
    const paid = await h.get('/ops/orders?payment=paid');
    t.equal(countShown(paid.body, 'total'), '5', 'the counts leave the state filters out: each says what choosing it would show');
    t.match(paid.body, /<option value="paid" selected>/, 'the form shows the filter');
  });

  t.test('a created-date range is inclusive, in the business time zone', async (t) => {
    const page = await h.get('/ops/orders?from=2026-03-05&to=2026-03-10');
    t.same(listed(page.body), [c, b], 'the first second of the first day and the last second of the last day are in');
    t.equal(countShown(page.body, 'total'), '2', 'the counts follow the range');
    t.same(listed((await h.get('/ops/orders?from=2026-03-01&to=2026-03-01')).body), [a]);
    t.same(listed((await h.get('/ops/orders?from=2026-03-11')).body), [d], 'one end given: the range runs 366 days from it');
    t.match((await h.get('/ops/orders?from=2026-03-11')).body, 'value="2027-03-11"');
    t.same(listed((await h.get('/ops/orders?to=2025-06-30')).body), [old]);
    await h.pool.query(`select set_stats_time_zone('America/New_York')`);
    t.same(listed((await h.get('/ops/orders?from=2026-03-10&to=2026-03-10')).body), [d, c], 'a New York day (daylight saving time) runs from 04:00 to 04:00 UTC');
    await h.pool.query(`select set_stats_time_zone('UTC')`);
  });

  t.test('searches the order number (exact) and the e-mail address (contains, % and _ literal)', async (t) => {
    const number = (await h.pool.query<{ number: string }>(`select number from orders where id = $1`, [b])).rows[0]!.number;
    t.same(listed((await h.get(`/ops/orders?q=${number.toLowerCase()}`)).body), [b]);
    t.same(listed((await h.get(`/ops/orders?q=${number.slice(0, 7)}`)).body), [b], 'part of a number');
    t.same(listed((await h.get('/ops/orders?q=ALPHA@')).body), [a]);
    t.same(listed((await h.get('/ops/orders?q=100%25')).body), [b]);
    t.same(listed((await h.get('/ops/orders?q=%25')).body), [b], '% matches a percent sign, not everything');
    t.same(listed((await h.get('/ops/orders?q=b_')).body), [b], '_ matches an underscore only');
    t.same(listed((await h.get('/ops/orders?q=nobody')).body), []);
  });

  t.test('pages walk the whole list one way and back', async (t) => {
    const seen: string[] = [];
    let url = '/ops/orders?per_page=2';
    const pages: string[] = [];
    for (;;) {
      const page = await h.get(url);
      t.equal(page.statusCode, 200);
      pages.push(url);
      seen.push(...listed(page.body));
      const next = /rel="next" href="([^"]+)"/.exec(page.body)?.[1];
      if (!next) break;
      url = unescapeHtml(next);
    }
    t.same(seen, [d, c, b, a, old]);
    t.equal(pages.length, 3);
    const last = await h.get(url);
    t.match(last.body, '<span class="disabled">Older →</span>');
    const back = unescapeHtml(/rel="prev" href="([^"]+)"/.exec(last.body)![1]!);
    t.match(back, /after=\d+/);
    t.same(listed((await h.get(back)).body), [b, a], 'the previous page, newest first');
    t.match((await h.get('/ops/orders?per_page=2')).body, '<span class="disabled">← Newer</span>');
    t.same(listed((await h.get(`/ops/orders?payment=paid&per_page=1&before=${d}`)).body), [a], 'the cursor keeps the filters');
  });

  t.test('names and addresses with markup print as text', async (t) => {
    const page = await h.get('/ops/orders');
    t.notMatch(page.body, '<script>alert');
    t.match(page.body, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Sons');
  });

  t.test('every bad parameter is a 400 page with a sentence', async (t) => {
    const cases: [string, string][] = [
      ['payment=nope', 'payment must be one of pending_payment, payment_processing'],
      ['fulfilment=lost', 'fulfilment must be one of unfulfilled'],
      ['review=maybe', 'review must be one of yes or no, not "maybe".'],
      ['from=2026-02-30', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "2026-02-30".'],
      ['to=yesterday', '"to" must be a date written YYYY-MM-DD'],
      ['from=2026-03-10&to=2026-03-01', 'The range starts (2026-03-10) after it ends (2026-03-01)'],
      ['from=2025-01-01&to=2026-01-02', 'The range 2025-01-01 to 2026-01-02 covers 367 days; the list covers at most 366.'],
      [`q=${'x'.repeat(101)}`, 'The search text is longer than 100 characters.'],
      ['per_page=0', 'per_page must be a whole number from 1 to 200, not "0".'],
      ['per_page=201', 'per_page must be a whole number from 1 to 200'],
      ['before=abc', '"before" must be an order id (digits), not "abc".'],
      ['before=5&after=3', 'Give "before" or "after", not both'],
      ['sort=name', 'There is no parameter "sort"; use payment, fulfilment'],
      ['payment=paid&payment=expired', 'The parameter "payment" is given more than once.'],
    ];
    for (const [query, sentence] of cases) {
      const page = await h.get(`/ops/orders?${query}`);
      t.equal(page.statusCode, 400, query);
      t.match(unescapeHtml(page.body), sentence, query);
    }
    t.same(listed((await h.get('/ops/orders?from=2025-03-10&to=2026-03-10')).body), [c, b, a], '366 days is allowed');
  });
});
