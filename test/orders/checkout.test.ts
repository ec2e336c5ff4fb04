import t from 'tap';
import { HttpError } from '../../src/http/http-error.ts';
import { createCheckout } from '../../src/orders/checkout.service.ts';
import type { CheckoutRequest } from '../../src/orders/checkout-request.ts';
import { getOrderStatus } from '../../src/orders/order-status.ts';
import { countRows, workflow } from '../helpers/order-workflow.ts';

const address = { line1: '1 High Street', postalCode: 'LS1 1AA', city: 'Leeds', country: 'gb' };
const customer = { email: 'bob@example.com', name: 'Bob', address };

t.test('a checkout that is not valid is refused with a sentence, and writes nothing', async (t) => {
  const w = await workflow(t, { workers: false });
  const refusals: [string, Partial<CheckoutRequest>, string, RegExp][] = [
    ['an empty cart', { items: [] }, 'empty_cart', /cart is empty/],
    ['no items at all', { items: undefined as never }, 'empty_cart', /cart is empty/],
    ['quantity 0', { items: [{ productId: w.products.mug, quantity: 0 }] }, 'invalid_quantity', /from 1 to 99/],
    ['quantity 100', { items: [{ productId: w.products.mug, quantity: 100 }] }, 'invalid_quantity', /from 1 to 99/],
    ['quantity 1.5', { items: [{ productId: w.products.mug, quantity: 1.5 }] }, 'invalid_quantity', /whole number/],
    ['one product twice, 99 in all', { items: [{ productId: w.products.mug, quantity: 50 }, { productId: w.products.mug, quantity: 50 }] }, 'invalid_quantity', /from 1 to 99/],
    ['a product id that is not one', { items: [{ productId: 'mug', quantity: 1 }] }, 'invalid_product', /not a product/],
    ['an unknown product', { items: [{ productId: '999999', quantity: 1 }] }, 'unknown_product', /Product 999999 is not for sale/],
    ['a bad e-mail', { customer: { ...customer, email: 'bob-at-example' } }, 'invalid_email', /valid e-mail address/],
    ['no name', { customer: { ...customer, name: '  ' } }, 'missing_name', /Enter your name/],
    ['no address', { customer: { email: 'bob@example.com', name: 'Bob' } as never }, 'missing_address', /address/],
    ['no city', { customer: { ...customer, address: { ...address, city: '' } } }, 'missing_city', /town or city/],
    ['a bad country', { customer: { ...customer, address: { ...address, country: 'England' } } }, 'too_long', /longer than 2/],
    ['an unknown customer id', { customer: { customerId: '424242', address } }, 'unknown_customer', /does not exist/],
  ];
  for (const [label, change, code, sentence] of refusals) {
    const request = { items: [{ productId: w.products.mug, quantity: 1 }], customer, ...change } as CheckoutRequest;
    const error = await createCheckout(w.checkoutDeps, request).catch((caught: unknown) => caught);
    t.type(error, HttpError, label);
    t.match(error, { statusCode: 400, code, message: sentence }, label);
  }
  t.equal(await countRows(w, `select from orders`), 0);
  t.equal(await countRows(w, `select from customers`), 0);
  t.equal((await w.gateway.requests()).length, 0, 'the gateway was not asked');
});

t.test('prices come from the products, a customer is reused by e-mail whatever its case, lines of one product merge', async (t) => {
  const w = await workflow(t, { workers: false });
  const first = await createCheckout(w.checkoutDeps, { items: [{ productId: w.products.mug, quantity: 1 }, { productId: w.products.mug, quantity: 2 }], customer });
  const second = await createCheckout(w.checkoutDeps, {
    items: [{ productId: Number(w.products.sticker), quantity: 1 }],
    customer: { ...customer, email: 'BOB@example.COM', name: 'Robert', address: { ...address, line1: '2 Low Road' } },
  });
  t.equal(await countRows(w, `select from customers`), 1, 'one customer');
  const { rows } = await w.pool.query(`select o.total::text, o.customer_name, o.address_line1, o.country, o.currency, i.quantity, i.unit_price::text, i.name
    from orders o join order_items i on i.order_id = o.id order by o.id`);
  t.same(rows, [
    { total: '37.50', customer_name: 'Bob', address_line1: '1 High Street', country: 'GB', currency: 'eur', quantity: 3, unit_price: '12.50', name: 'Mug' },
    { total: '7.99', customer_name: 'Robert', address_line1: '2 Low Road', country: 'GB', currency: 'eur', quantity: 1, unit_price: '7.99', name: 'Sticker' },
  ], 'snapshots of the price, the name and the address');
  const status = await getOrderStatus(w.db, { orderId: first.orderId });
  t.match(status, { paymentState: 'pending_payment', checkoutUrl: first.redirectUrl, items: [{ name: 'Mug', quantity: 3, unitPrice: '12.50' }] });
  t.not(first.number, second.number);
  t.equal(await getOrderStatus(w.db, { orderId: 'nonsense' }), undefined);
  t.equal(await getOrderStatus(w.db, { number: 'TT-0000-0000' }), undefined);

  // A later price change does not change a placed order.
  await w.pool.query(`update products set price = 99 where id = $1`, [w.products.mug]);
  t.equal((await getOrderStatus(w.db, { number: first.number }))!.total, '37.50');
});

t.test('a signed-in customer orders by id, and the address of their last order is used', async (t) => {
  const w = await workflow(t, { workers: false });
  const first = await createCheckout(w.checkoutDeps, { items: [{ productId: w.products.mug, quantity: 1 }], customer });
  const { rows: [{ customer_id }] } = await w.pool.query(`select customer_id::text from orders where id = $1`, [first.orderId]);
  const again = await createCheckout(w.checkoutDeps, { items: [{ productId: w.products.mug, quantity: 1 }], customer: { customerId: customer_id } });
  const { rows: [order] } = await w.pool.query(`select customer_id::text, address_line1, customer_email from orders where id = $1`, [again.orderId]);
  t.same(order, { customer_id, address_line1: '1 High Street', customer_email: 'bob@example.com' });
});

t.test('a referral code picks its agent; without one, or with an unknown one, the web shop sells', async (t) => {
  const w = await workflow(t, { workers: false });
  const { rows: [agent] } = await w.pool.query(`insert into sales_agents (name, referral_code) values ('Alice Agent', 'ALICE-7') returning id::text`);
  const referred = await createCheckout(w.checkoutDeps, { items: [{ productId: w.products.mug, quantity: 1 }], customer, referralCode: 'alice-7' });
  const direct = await createCheckout(w.checkoutDeps, { items: [{ productId: w.products.mug, quantity: 1 }], customer });
  const unknown = await createCheckout(w.checkoutDeps, { items: [{ productId: w.products.mug, quantity: 1 }], customer, referralCode: 'nobody' });
  const agentOf = async (orderId: string) => (await w.pool.query(`select o.sales_agent_id::text as id, a.name, o.referral_code from orders o join sales_agents a on a.id = o.sales_agent_id where o.id = $1`, [orderId])).rows[0];
  t.same(await agentOf(referred.orderId), { id: agent.id, name: 'Alice Agent', referral_code: 'ALICE-7' });
  t.match(await agentOf(direct.orderId), { name: 'Web shop', referral_code: null });
  t.match(await agentOf(unknown.orderId), { name: 'Web shop', referral_code: null });
  t.equal(await countRows(w, `select from sales_agents where name = 'Web shop'`), 1, 'the web shop agent is created once');
  await t.rejects(w.pool.query(`insert into sales_agents (name, referral_code) values ('Copycat', 'alice-7')`), { code: '23505' }, 'referral codes are unique whatever their case');
});

t.test('the checkout session carries the order, its lines and its expiry', async (t) => {
  const w = await workflow(t, { workers: false });
  const result = await createCheckout(w.checkoutDeps, { items: [{ productId: w.products.mug, quantity: 2 }, { productId: w.products.tent, quantity: 1 }], customer });
  const session = await w.stripe.checkout.sessions.retrieve(await w.sessionOf(result.orderId));
  t.match(session, {
    client_reference_id: result.orderId, metadata: { order_id: result.orderId, order_number: result.number },
    amount_total: 12_500, currency: 'eur', customer_email: 'bob@example.com', mode: 'payment', status: 'open',
  });
  t.match(session.success_url, `http://shop.test/orders/${result.number}/thanks`);
  const { rows: [order] } = await w.pool.query(`select floor(extract(epoch from expires_at))::int as expires from orders where id = $1`, [result.orderId]);
  t.equal(session.expires_at, order.expires, 'the session ends when the order does');
  t.ok(Math.abs(order.expires - (Date.now() / 1000 + 3600)) < 120, 'an hour from now (ORDER_CHECKOUT_TTL_MINUTES)');
  const lines = await w.stripe.checkout.sessions.listLineItems(session.id);
  t.same(lines.data.map((line) => [line.description, line.quantity, line.amount_total]), [['Mug', 2, 2500], ['Tent', 1, 10_000]]);
});
