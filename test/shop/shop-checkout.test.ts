import t from 'tap';
import { ANN, problemOf, shop, unescapeHtml } from './shop-harness.ts';

/** Product name → price as shown, in the order of the page. */
function shownProducts(html: string): [string, string][] {
  return [...html.matchAll(/<tr data-product="\d+">\s*<td><label[^>]*>([^<]*)<\/label><\/td>\s*<td class="num" data-price>([^<]*)<\/td>/g)]
    .map(([, name, price]) => [unescapeHtml(name!), price!]);
}

t.test('the shop lists the products by name with prices in two decimals and thousands separators, without a sign-in', async (t) => {
  const s = await shop(t);
  const { response } = await s.get('/shop');
  t.equal(response.statusCode, 200, 'public: no redirect to the sign-in');
  t.same(shownProducts(response.body), [
    ['<b>Bold</b> & "Co"', '1,234,567.89 EUR'], ['Mug', '12.50 EUR'], ['Sticker', '7.99 EUR'], ['Tent', '1,234.50 EUR'],
  ]);
  t.match(response.body, '&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;Co&quot;', 'names are escaped');
  t.match(response.body, new RegExp(`<input id="qty_${s.products.mug}" type="number" name="qty_${s.products.mug}" value="" min="0" max="99"`));
  t.match(response.body, /name="_csrf" value="[^"]+"/, 'the form carries a CSRF token');
  for (const name of ['email', 'name', 'line1', 'line2', 'postal_code', 'city', 'country', 'referral_code']) t.match(response.body, `name="${name}"`);
  t.equal(response.headers['cache-control'], 'no-store');
  t.equal(response.headers['referrer-policy'], 'no-referrer');
});

t.test('the name search narrows the list, takes % and _ literally, and the list stops at 50 products', async (t) => {
  const s = await shop(t);
  t.same(shownProducts((await s.get('/shop?q=MU')).response.body).map(([name]) => name), ['Mug']);
  t.same(shownProducts((await s.get('/shop?q=%25')).response.body), [], '% matches only a % in a name');
  t.match((await s.get('/shop?q=zzz')).response.body, 'No product matches this search.');
  const tooLong = await s.get(`/shop?q=${'x'.repeat(101)}`);
  t.equal(tooLong.response.statusCode, 400);
  t.match(tooLong.response.body, 'Search for at most 100 characters.');

  await s.pool.query(`insert into products (name, price) select 'Poster ' || lpad(n::text, 3, '0'), 5 from generate_series(1, 60) as n`);
  const capped = (await s.get('/shop')).response.body;
  t.equal(shownProducts(capped).length, 50);
  t.match(capped, 'The first 50 of 64 products by name: search to find the others.');
  t.same(shownProducts((await s.get('/shop?q=poster 06')).response.body).map(([name]) => name), ['Poster 060']);
});

t.test('a referral link fills in the referral code', async (t) => {
  const s = await shop(t);
  t.match((await s.get('/shop?ref=ANN-7')).response.body, 'name="referral_code" value="ANN-7"');
});

t.test('a valid checkout sends the customer to the payment page and saves the order with the server\'s prices; a forged price is ignored', async (t) => {
  const s = await shop(t);
  const { response, cookie } = await s.checkout({ [s.products.mug]: '2', [s.products.tent]: '1', [s.products.sticker]: '0' }, {
    [`price_${s.products.mug}`]: '0.01', total: '0.01', unit_price: '0.01', line2: 'Flat 2',
  });
  t.equal(response.statusCode, 303);
  const location = response.headers.location as string;
  t.match(location, new RegExp(`^${s.gatewayUrl}/pay/cs_test_`), 'to the sandbox\'s hosted page');
  t.match(cookie, /tanktop_orders=/, 'the browser remembers the order it placed');

  const { rows: [order] } = await s.pool.query(`select * from orders`);
  t.match(order, {
    total: '1259.50', currency: 'eur', payment_state: 'pending_payment', customer_email: 'ann@example.com', customer_name: 'Ann Buyer',
    address_line1: '1 High Street', address_line2: 'Flat 2', postal_code: 'LS1 1AA', city: 'Leeds', country: 'GB', checkout_url: location,
  });
  const { rows: items } = await s.pool.query(`select product_id::text, quantity, unit_price from order_items where order_id = $1 order by product_id`, [order.id]);
  t.same(items, [
    { product_id: s.products.mug, quantity: 2, unit_price: '12.50' },
    { product_id: s.products.tent, quantity: 1, unit_price: '1234.50' },
  ], 'prices from the products table; the product with quantity 0 is left out');
  t.equal(await s.count(`select from customers where email = 'ann@example.com'`), 1);

  const hosted = await fetch(location);
  t.match(await hosted.text(), '1,259.50', 'the gateway was asked for the server\'s total');
});

t.test('each invalid input is refused with a 400 page saying what is wrong, the inputs kept, and no order', async (t) => {
  const s = await shop(t);
  const cases: [string, Record<string, string>, Record<string, string>, string][] = [
    ['no items', {}, {}, 'Your cart is empty: add a product first.'],
    ['only zero quantities', { [s.products.mug]: '0', [s.products.tent]: '' }, {}, 'Your cart is empty: add a product first.'],
    ['quantity 100', { [s.products.mug]: '100' }, {}, 'The quantity of each product must be a whole number from 1 to 99.'],
    ['a quantity that is not a number', { [s.products.mug]: 'two' }, {}, 'The quantity of each product must be a whole number from 0 to 99.'],
    ['a negative quantity', { [s.products.mug]: '-1' }, {}, 'The quantity of each product must be a whole number from 0 to 99.'],
    ['a bad e-mail address', { [s.products.mug]: '1' }, { email: 'ann.example.com' }, 'Enter a valid e-mail address, like ann@example.com.'],
    ['no name', { [s.products.mug]: '1' }, { name: '  ' }, 'Enter your name.'],
    ['no street', { [s.products.mug]: '1' }, { line1: '' }, 'Enter the street and number of your address.'],
    ['no postal code', { [s.products.mug]: '1' }, { postal_code: '' }, 'Enter the postal code of your address.'],
    ['no city', { [s.products.mug]: '1' }, { city: '' }, 'Enter the town or city of your address.'],
    ['a country that is not two letters', { [s.products.mug]: '1' }, { country: 'G1' }, 'Choose the country of your address (a two-letter code such as GB or DE).'],
    ['an unknown product', { [s.products.mug]: '1', 999999: '1' }, {}, 'Product 999999 is not for sale (any more): remove it from your cart.'],
    ['a product id that is not one', { [s.products.mug]: '1', 'abc': '1' }, {}, '"abc" is not a product of this shop.'],
  ];
  for (const [what, quantities, fields, sentence] of cases) {
    const { response } = await s.checkout(quantities, { name: 'Ann <Buyer>', ...fields });
    t.equal(response.statusCode, 400, what);
    t.equal(problemOf(response.body), sentence, what);
    for (const [field, value] of Object.entries({ line1: ANN.line1, postal_code: ANN.postal_code, city: ANN.city, email: ANN.email })) {
      if (!(field in fields)) t.match(response.body, `name="${field}" value="${value}"`, `${what}: ${field} is kept`);
    }
    if (!('name' in fields)) t.match(response.body, 'name="name" value="Ann &lt;Buyer&gt;"', `${what}: the name is kept, escaped`);
    if (quantities[s.products.mug]) {
      t.match(response.body, `name="qty_${s.products.mug}" value="${quantities[s.products.mug]}"`, `${what}: the quantity is kept`);
    }
  }
  t.equal(await s.count('select from orders'), 0, 'no order');
  t.equal(await s.count('select from customers'), 0, 'no customer');
  t.equal((await s.gateway.requests()).length, 0, 'the gateway was not called');
});

t.test('a form without a valid CSRF token is refused with a 403 sentence and no order', async (t) => {
  const s = await shop(t);
  const fields = { ...ANN, [`qty_${s.products.mug}`]: '1' };
  for (const [what, csrf] of [['a forged token', 'forged-token'], ['no token', '']] as const) {
    const { response } = await s.post('/shop/checkout', fields, { csrf });
    t.equal(response.statusCode, 403, what);
    t.equal(problemOf(response.body), 'This form has expired or did not come from this site: reload the page and try again.', what);
  }
  const page = await s.get('/shop');
  const token = /name="_csrf" value="([^"]+)"/.exec(page.response.body)![1]!;
  const withoutCookie = await s.app.inject({
    method: 'POST', url: '/shop/checkout', payload: new URLSearchParams({ _csrf: token, ...fields }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  t.equal(withoutCookie.statusCode, 403, 'a token without its cookie (another site posting the form)');
  t.equal(await s.count('select from orders'), 0);
});

t.test('when the gateway fails, the customer gets a 502 page with a sentence, the order is kept, and Try again opens the payment page', async (t) => {
  const s = await shop(t);
  // The SDK tries three times (maxNetworkRetries 2): every attempt fails.
  await s.gateway.addFaults({ failApi: { count: 3, status: 503, path: '/v1/checkout/sessions' } });
  const { response, cookie } = await s.checkout({ [s.products.mug]: '1' });
  t.equal(response.statusCode, 502);
  const { rows: [order] } = await s.pool.query(`select id, number, payment_state from orders`);
  t.equal(order.payment_state, 'payment_failed', 'the order is saved, waiting for another attempt');
  t.equal(problemOf(response.body), `We could not reach the payment service. Your order ${order.number} is saved: try paying again in a moment.`);
  const retryAction = s.access.orderPath(order.number, '/retry');
  t.match(unescapeHtml(response.body), `action="${retryAction}"`, 'a Try again button');
  t.match(unescapeHtml(response.body), `href="${s.access.orderPath(order.number)}"`, 'and a link to the order');

  await s.gateway.resetFaults();
  const retry = await s.post(retryAction, {}, { cookie });
  t.equal(retry.response.statusCode, 303);
  t.match(retry.response.headers.location, new RegExp(`^${s.gatewayUrl}/pay/cs_test_`));
  t.equal((await s.pool.query(`select payment_state from orders`)).rows[0].payment_state, 'pending_payment');
  t.equal(await s.count('select from orders'), 1, 'still one order');
});
