import t from 'tap';
import { sql } from 'kysely';
import { allTransitions, FULFILMENT_STATES, PAYMENT_STATES, PAYMENT_TRANSITIONS } from '../../src/orders/order-states.ts';
import { flagForReview, transitionFulfilment, transitionPayment } from '../../src/orders/order-state-machine.ts';
import { freshDatabase } from '../helpers/database.ts';
import { insertOrder, makeProducts, orderRow } from '../helpers/order-fixtures.ts';

t.test('the database accepts exactly the states the state machine lists', async (t) => {
  const { pool } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug });
  for (const state of PAYMENT_STATES) {
    await pool.query(`update orders set payment_state = $2 where id = $1`, [orderId, state]);
  }
  for (const state of FULFILMENT_STATES) {
    await pool.query(`update orders set fulfilment_state = $2 where id = $1`, [orderId, state]);
  }
  await t.rejects(pool.query(`update orders set payment_state = 'lost' where id = $1`, [orderId]), { code: '23514', constraint: 'orders_payment_state_known' }, 'an unknown payment state is refused');
  await t.rejects(pool.query(`update orders set fulfilment_state = 'lost' where id = $1`, [orderId]), { code: '23514', constraint: 'orders_fulfilment_state_known' }, 'an unknown fulfilment state is refused');
});

t.test('an allowed transition changes the state and writes one order_events row', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug });
  t.equal(await transitionPayment(db, { orderId, to: 'payment_failed', reason: 'card declined', source: 'evt_1' }), true);
  t.equal((await orderRow(pool, orderId)).payment_state, 'payment_failed');
  const { rows } = await pool.query(`select dimension, from_state, to_state, reason, source from order_events where order_id = $1`, [orderId]);
  t.same(rows, [{ dimension: 'payment', from_state: 'pending_payment', to_state: 'payment_failed', reason: 'card declined', source: 'evt_1' }]);
});

t.test('a transition not allowed from the current state is a no-op that returns false and records nothing', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug, paymentState: 'paid' });
  t.equal(await transitionPayment(db, { orderId, to: 'payment_failed', reason: 'late decline' }), false, 'paid never goes back to failed');
  t.equal(await transitionPayment(db, { orderId, to: 'paid', reason: 'again' }), false, 'paid to paid is refused');
  t.equal(await transitionPayment(db, { orderId, to: 'expired', reason: 'session expired' }), false);
  t.equal((await orderRow(pool, orderId)).payment_state, 'paid');
  t.equal((await pool.query(`select from order_events where order_id = $1`, [orderId])).rowCount, 0);
  t.equal(await transitionPayment(db, { orderId: '999999', to: 'paid', reason: 'no such order' }), false, 'an unknown order is refused too');
});

t.test('`from` narrows the allowed states', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug });
  t.equal(await transitionPayment(db, { orderId, to: 'paid', reason: 'x', from: ['payment_failed'] }), false);
  t.equal(await transitionPayment(db, { orderId, to: 'paid', reason: 'x', from: ['pending_payment'] }), true);
});

t.test('every allowed payment transition is accepted and every other one refused', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug });
  const allowed = new Set(allTransitions({ dimension: 'payment', column: 'payment_state', states: PAYMENT_STATES, transitions: PAYMENT_TRANSITIONS }).map(([from, to]) => `${from}>${to}`));
  for (const from of PAYMENT_STATES) {
    for (const to of PAYMENT_STATES) {
      await pool.query(`update orders set payment_state = $2 where id = $1`, [orderId, from]);
      const changed = await transitionPayment(db, { orderId, to, reason: 'matrix' });
      t.equal(changed, allowed.has(`${from}>${to}`), `${from} → ${to}`);
    }
  }
  const { rows: [events] } = await pool.query<{ n: number }>(`select count(*)::int as n from order_events where order_id = $1`, [orderId]);
  t.equal(events!.n, allowed.size, 'one event per accepted transition');
});

t.test('concurrent transitions from the same state: exactly one wins', async (t) => {
  const { pool, db } = await freshDatabase(t, { poolSize: 8 });
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug });
  const results = await Promise.all([
    ...Array.from({ length: 4 }, () => transitionPayment(db, { orderId, to: 'paid', reason: 'race' })),
    ...Array.from({ length: 4 }, () => transitionPayment(db, { orderId, to: 'expired', reason: 'race' })),
  ]);
  t.equal(results.filter(Boolean).length, 1);
  const { rows } = await pool.query(`select to_state from order_events where order_id = $1`, [orderId]);
  t.equal(rows.length, 1);
  t.equal((await orderRow(pool, orderId)).payment_state, rows[0].to_state);
});

t.test('fulfilment is a dimension of its own', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug, paymentState: 'paid' });
  t.equal(await transitionFulfilment(db, { orderId, to: 'shipped', reason: 'skip ahead' }), false);
  t.equal(await transitionFulfilment(db, { orderId, to: 'submitted', reason: 'sent to supplier' }), true);
  const row = await orderRow(pool, orderId);
  t.equal(row.fulfilment_state, 'submitted');
  t.equal(row.payment_state, 'paid');
});

t.test('flagging for review sets the reason once and records it', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug });
  t.equal(await flagForReview(db, orderId, 'amount 1.00 eur differs from the order total 12.50 eur', 'evt_2'), true);
  t.equal(await flagForReview(db, orderId, 'another reason', 'evt_3'), false);
  const row = await orderRow(pool, orderId);
  t.equal(row.needs_review, true);
  t.match(row.review_reason, /differs/);
  const { rows } = await pool.query(`select dimension, to_state from order_events where order_id = $1`, [orderId]);
  t.same(rows, [{ dimension: 'review', to_state: 'needs_review' }]);
  await t.rejects(pool.query(`update orders set review_reason = null where id = $1`, [orderId]), { code: '23514', constraint: 'orders_review_reason_present' }, 'a flagged order keeps its reason');
});

t.test('a fulfilment step is a HOT update: it changes no indexed column of orders, so no index gets an entry', async (t) => {
  const { pool, db } = await freshDatabase(t);
  const products = await makeProducts(pool);
  const orderId = await insertOrder(pool, { productId: products.mug, paymentState: 'paid' });
  // The transaction's own counts (pg_stat_get_xact_*) are exact: no waiting for the statistics collector.
  const counts = await db.transaction().execute(async (trx) => {
    t.equal(await transitionFulfilment(trx, { orderId, to: 'submitted', reason: 'accepted by the supplier' }), true);
    t.equal(await transitionFulfilment(trx, { orderId, to: 'in_production', reason: 'in production' }), true);
    const { rows: [row] } = await sql<{ updated: number; hot: number }>`select pg_stat_get_xact_tuples_updated('orders'::regclass)::int as updated,
      pg_stat_get_xact_tuples_hot_updated('orders'::regclass)::int as hot`.execute(trx);
    return row!;
  });
  t.equal(counts.updated, 2, 'two updates of the order');
  t.equal(counts.hot, 2, 'both HOT');
  t.equal((await orderRow(pool, orderId)).fulfilment_state, 'in_production');
});
