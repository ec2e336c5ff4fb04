import t from 'tap';
import { ANN, formToken, problemOf, shop } from './shop-harness.ts';

t.test('defect: a NUL or other control character in a checkout field is refused in the form, naming the field, and nothing is stored', async (t) => {
  const s = await shop(t);
  const cases: [string, Record<string, string>, string][] = [
    ['a NUL in the name', { name: 'A\0B' }, 'The field "Name" contains a control character (U+0000), which it may not: remove it and try again.'],
    ['a NUL in the e-mail address', { email: 'ann\0@example.com' }, 'The field "E-mail address" contains a control character (U+0000), which it may not: remove it and try again.'],
    ['a tab in the street', { line1: '1 High\tStreet' }, 'The field "Address line 1" contains a control character (U+0009), which it may not: remove it and try again.'],
    ['a newline in line 2', { line2: 'Flat 2\nBack door' }, 'The field "Address line 2" contains a control character (U+000A), which it may not: remove it and try again.'],
    ['DEL in the postal code', { postal_code: 'LS1\u007f1AA' }, 'The field "Postal code" contains a control character (U+007F), which it may not: remove it and try again.'],
    ['a C1 control in the city', { city: 'Leeds\u0085' }, 'The field "Town or city" contains a control character (U+0085), which it may not: remove it and try again.'],
    ['a NUL in the referral code', { referral_code: 'ANN\0' }, 'The field "Referral code" contains a control character (U+0000), which it may not: remove it and try again.'],
    ['a field far too long', { city: 'x'.repeat(2001) }, 'The field "Town or city" is longer than 2000 characters.'],
    ['a city longer than the column', { city: 'x'.repeat(101) }, 'The field "Town or city" is longer than 100 characters.'],
  ];
  for (const [what, fields, sentence] of cases) {
    const { response } = await s.checkout({ [s.products.mug]: '1' }, fields);
    t.equal(response.statusCode, 400, what);
    t.equal(problemOf(response.body), sentence, what);
    t.match(response.body, `name="qty_${s.products.mug}" value="1"`, `${what}: the form is shown again with what was typed`);
    t.notMatch(response.body, '\0', `${what}: no NUL echoed into the page`);
  }

  const page = await s.get('/shop');
  const form = new URLSearchParams({ _csrf: formToken(page.response.body), ...ANN, [`qty_${s.products.mug}`]: '1' });
  form.append('email', 'b@example.com');
  const twice = await s.app.inject({
    method: 'POST', url: '/shop/checkout', headers: { cookie: page.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString(),
  });
  t.equal(twice.statusCode, 400, 'a field given twice');
  t.equal(problemOf(twice.body), 'The field "E-mail address" is given more than once.');

  t.equal(await s.count('select from orders'), 0, 'no order');
  t.equal(await s.count('select from customers'), 0, 'no customer');
  t.equal((await s.gateway.requests()).length, 0, 'the gateway was not called');
  const fine = await s.checkout({ [s.products.mug]: '1' }, { name: '  Zoë 🚚  ' });
  t.equal(fine.response.statusCode, 303, 'accents and emoji are text; surrounding spaces are trimmed');
  t.equal((await s.pool.query('select customer_name from orders')).rows[0].customer_name, 'Zoë 🚚');
});

t.test('the shop\'s other values: search, quantities, order links and the e-mail look-up refuse control characters with a 400', async (t) => {
  const s = await shop(t);
  const order = await s.placeOrder({ [s.products.mug]: '1' });
  const gets: [string, string][] = [
    ['/shop?q=%00', 'The parameter "q" contains a control character (U+0000)'],
    ['/shop?q=a&q=b', 'The parameter "q" is given more than once.'],
    [`/shop/orders/${order.number}?key=%00`, 'The parameter "key" contains a control character (U+0000)'],
    [`/orders/${order.number}/thanks?session_id=cs%00`, 'The parameter "session_id" contains a control character (U+0000)'],
    [`/orders/TT-%00`, 'The path segment "number" contains a control character (U+0000)'],
  ];
  for (const [url, sentence] of gets) {
    const { response } = await s.get(url);
    t.equal(response.statusCode, 400, url);
    t.match(response.body.replace(/&quot;/g, '"'), sentence, url);
  }
  t.equal((await s.get('/shop?utm_source=mail&q=mug')).response.statusCode, 200, 'tracking tags on a shop link are ignored');
  const quantity = await s.checkout({ [s.products.mug]: '1\0' });
  t.equal(quantity.response.statusCode, 400, 'a NUL in a quantity');
  t.match(quantity.response.body.replace(/&quot;/g, '"'), `The field "qty_${s.products.mug}" contains a control character (U+0000)`);
  const lookUp = await s.post(`/orders/${order.number}`, { email: `${ANN.email}\0` }, { formPage: `/orders/${order.number}` });
  t.equal(lookUp.response.statusCode, 400, 'a NUL in the e-mail look-up');
  t.equal(await s.count('select from orders'), 1, 'still the one order');
});
