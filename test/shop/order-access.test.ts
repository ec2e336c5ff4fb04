import t from 'tap';
import { orderAccess } from '../../src/shop/order-access.ts';
import { problemOf, SESSION_SECRET, shop } from './shop-harness.ts';

const INVALID_LINK = 'This order link is not valid: open the link from your order e-mail, or the one you were sent back to after paying.';

t.test('an order key belongs to one order and one secret: 32 URL-safe characters, not derivable from the number', async (t) => {
  const access = orderAccess(SESSION_SECRET);
  const key = access.keyOf('TT-AAAA-BBBB');
  t.match(key, /^[A-Za-z0-9_-]{32}$/);
  t.equal(access.keyOf('TT-AAAA-BBBB'), key, 'stable: nothing to store');
  t.not(access.keyOf('TT-AAAA-BBBC'), key, 'another order, another key');
  t.not(orderAccess(`${SESSION_SECRET}x`).keyOf('TT-AAAA-BBBB'), key, 'another secret, another key');
  t.ok(access.allows('TT-AAAA-BBBB', key));
  t.notOk(access.allows('TT-AAAA-BBBB', key.slice(0, 31)));
  t.notOk(access.allows('TT-AAAA-BBBB', [key]));
  t.equal(access.orderPath('TT-AAAA-BBBB', '/invoice.pdf'), `/shop/orders/TT-AAAA-BBBB/invoice.pdf?key=${key}`);
});

t.test('without the right key an order page, its invoice and its retry are a 404 that does not say whether the order exists', async (t) => {
  const s = await shop(t);
  const mine = await s.placeOrder({ [s.products.mug]: '1' });
  const theirs = await s.placeOrder({ [s.products.tent]: '1' });
  const wrongKeys: [string, string][] = [
    ['no key', `/shop/orders/${theirs.number}`],
    ['an empty key', `/shop/orders/${theirs.number}?key=`],
    ['my own order\'s key', `/shop/orders/${theirs.number}?key=${s.access.keyOf(mine.number)}`],
    ['a key of the right length but wrong', `/shop/orders/${theirs.number}?key=${'A'.repeat(32)}`],
    ['a key made with another secret', orderAccess('another-secret-of-32-characters-or-more').orderPath(theirs.number)],
    ['an order that does not exist', `/shop/orders/TT-0000-0000?key=${'A'.repeat(32)}`],
    ['not an order number', `/shop/orders/..%2F..%2Fetc?key=${'A'.repeat(32)}`],
    ['the invoice without a key', `/shop/orders/${theirs.number}/invoice.pdf`],
    ['the invoice with my key', `/shop/orders/${theirs.number}/invoice.pdf?key=${s.access.keyOf(mine.number)}`],
  ];
  for (const [what, url] of wrongKeys) {
    const { response } = await s.get(url, mine.cookie);
    t.equal(response.statusCode, 404, what);
    t.equal(problemOf(response.body), INVALID_LINK, `${what}: the same sentence`);
    t.notMatch(response.body, 'Ann Buyer', `${what}: nothing of the order`);
  }
  const retry = await s.post(`/shop/orders/${theirs.number}/retry?key=${s.access.keyOf(mine.number)}`, {}, { cookie: mine.cookie });
  t.equal(retry.response.statusCode, 404, 'retry with another order\'s key');
  t.equal((await s.get(s.access.orderPath(theirs.number))).response.statusCode, 200, 'the right key opens it');
  t.equal((await s.get(s.access.orderPath(theirs.number.toLowerCase()))).response.statusCode, 404,
    'keys are made from the canonical (upper-case) number');
  t.equal((await s.get(`/shop/orders/${theirs.number.toLowerCase()}?key=${s.access.keyOf(theirs.number)}`)).response.statusCode, 200,
    'a number typed in lower case still opens with its key');
});

t.test('the gateway\'s cancel return opens the order in the browser that placed it, and asks anyone else for the order\'s e-mail address', async (t) => {
  const s = await shop(t);
  const order = await s.placeOrder({ [s.products.mug]: '1' });

  const sameBrowser = await s.get(`/orders/${order.number}`, order.cookie);
  t.equal(sameBrowser.response.statusCode, 303);
  t.equal(sameBrowser.response.headers.location, s.access.orderPath(order.number));

  const stranger = await s.get(`/orders/${order.number}`);
  t.equal(stranger.response.statusCode, 200);
  t.match(stranger.response.body, 'To see this order, enter the e-mail address you placed it with.');
  t.notMatch(stranger.response.body, 'Ann Buyer');
  t.notMatch(stranger.response.body, 'key=');
  const unknown = await s.get('/orders/TT-0000-0000');
  t.equal(unknown.response.statusCode, 200, 'an unknown number gets the same question');
  t.equal((await s.get('/orders/not-a-number')).response.statusCode, 404);

  const formPage = `/orders/${order.number}`;
  for (const [what, number, email] of [
    ['a wrong address', order.number, 'eve@example.com'],
    ['the right address for an unknown number', 'TT-0000-0000', 'ann@example.com'],
  ] as const) {
    const { response } = await s.post(`/orders/${number}`, { email }, { formPage });
    t.equal(response.statusCode, 404, what);
    t.equal(problemOf(response.body), `We have no order ${number} for that e-mail address: check both and try again.`, what);
  }
  const empty = await s.post(`/orders/${order.number}`, { email: ' ' }, { formPage });
  t.equal(empty.response.statusCode, 400);
  t.equal(problemOf(empty.response.body), 'Enter the e-mail address you placed the order with.');
  t.equal((await s.post(`/orders/${order.number}`, { email: 'ann@example.com' }, { formPage, csrf: 'forged' })).response.statusCode, 403, 'the form needs its CSRF token');

  const confirmed = await s.post(`/orders/${order.number}`, { email: ' ANN@Example.com ' }, { formPage });
  t.equal(confirmed.response.statusCode, 303, 'the address, whatever its case');
  t.equal(confirmed.response.headers.location, s.access.orderPath(order.number));
  t.equal((await s.get(`/orders/${order.number}`, confirmed.cookie)).response.statusCode, 303, 'and this browser remembers it');
});

t.test('the order look-up form allows only a few tries a minute from one address', async (t) => {
  const s = await shop(t, { LOGIN_ATTEMPTS_PER_MINUTE: '3' });
  const order = await s.placeOrder({ [s.products.mug]: '1' });
  const statuses: number[] = [];
  let last = '';
  for (let i = 0; i < 4; i++) {
    const { response } = await s.post(`/orders/${order.number}`, { email: `eve${i}@example.com` }, { formPage: `/orders/${order.number}` });
    statuses.push(response.statusCode);
    last = response.body;
  }
  t.same(statuses, [404, 404, 404, 429]);
  t.match(problemOf(last), /^Too many tries from your address: wait .+ and try again\.$/);
});

t.test('the success return with another session id (or none) grants nothing', async (t) => {
  const s = await shop(t);
  const mine = await s.placeOrder({ [s.products.mug]: '1' });
  const theirs = await s.placeOrder({ [s.products.tent]: '1' });
  for (const query of [`?session_id=${mine.sessionId}`, '?session_id=cs_test_made_up', '', `?session_id=${theirs.sessionId}x`]) {
    const { response, cookie } = await s.get(`/orders/${theirs.number}/thanks${query}`);
    t.equal(response.statusCode, 200, `thanks${query}: asks for the e-mail address`);
    t.match(response.body, 'To see this order, enter the e-mail address you placed it with.');
    t.notMatch(cookie, /tanktop_orders=/, `thanks${query}: remembers nothing`);
  }
  t.equal((await s.get(`/orders/${theirs.number}/thanks?session_id=${theirs.sessionId}`)).response.statusCode, 303, 'its own session id opens it');
});

t.test('a forged orders cookie grants nothing: it is signed', async (t) => {
  const s = await shop(t);
  const order = await s.placeOrder({ [s.products.mug]: '1' });
  const { response } = await s.get(`/orders/${order.number}`, `tanktop_orders=${order.number}`);
  t.equal(response.statusCode, 200, 'the e-mail question, not the order');
  const tampered = order.cookie.replace(/tanktop_orders=([^;.]+)/, 'tanktop_orders=TT-0000-0000');
  t.equal((await s.get('/orders/TT-0000-0000', tampered)).response.statusCode, 200);
});
