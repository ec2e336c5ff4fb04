import t from 'tap';
import { formToken, harness } from '../stats-pages/app-harness.ts';
import { insertOrder, makeProducts } from '../helpers/order-fixtures.ts';

t.test('the operations pages in the application as built (src/http/app.ts)', async (t) => {
  const h = await harness(t);
  const { mug } = await makeProducts(h.pool);
  const orderId = await insertOrder(h.pool, { productId: mug });

  t.test('need a session: pages redirect to the sign-in, forms too', async (t) => {
    for (const url of ['/ops/orders', `/ops/orders/${orderId}`, '/ops/dead-letters', '/ops/invoices/1/pdf']) {
      const response = await h.app.inject({ url });
      t.equal(response.statusCode, 303, url);
      t.equal(response.headers.location, `/login?next=${encodeURIComponent(url)}`, url);
    }
    for (const url of [`/ops/orders/${orderId}/refund`, `/ops/orders/${orderId}/cancel`, '/ops/dead-letters/retry']) {
      const response = await h.app.inject({ method: 'POST', url, payload: 'queue=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      t.equal(response.statusCode, 303, url);
      t.equal(response.headers.location, '/login', url);
    }
  });

  t.test('signed in, they render; the site navigation leads to them', async (t) => {
    const list = await h.get('/ops/orders');
    t.equal(list.statusCode, 200);
    t.match(list.body, '<a href="/ops/orders" aria-current="page">Operations</a>');
    t.match(list.body, `<tr data-order-id="${orderId}">`);
    t.match((await h.get('/')).body, '<a href="/ops/orders">Operations</a>', 'from every page');
    const order = await h.get(`/ops/orders/${orderId}`);
    t.equal(order.statusCode, 200);
  });

  t.test('a process without a job queue shows the pages without Retry or any action', async (t) => {
    // This app was built without pg-boss, and no process has created its schema in this database.
    const dead = await h.get('/ops/dead-letters');
    t.equal(dead.statusCode, 200);
    t.match(dead.body, 'Nothing has failed for good.');
    t.match(dead.body, 'Retry needs the job queue, which this process does not have.');
    await h.pool.query(`update orders set payment_state = 'paid' where id = $1`, [orderId]);
    const order = await h.get(`/ops/orders/${orderId}`);
    t.match(order.body, 'No jobs are kept for this order.');
    t.match(order.body, 'Actions and Retry need the job queue, which this process does not have.');
    for (const action of ['refund', 'cancel', 'resubmit', 'retry']) t.notMatch(order.body, `/${action}"`, `no ${action} form`);
    const refused = await h.app.inject({ method: 'POST', url: `/ops/orders/${orderId}/refund`, headers: { cookie: h.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: formToken(order.body) }).toString() });
    t.equal(refused.statusCode, 409, 'posted anyway: refused with a sentence');
    t.match(refused.body, 'A refund needs the job queue, which this process does not have.');
  });
});
