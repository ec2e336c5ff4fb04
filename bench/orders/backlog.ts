/**
 * Phase 5's backlog: N paid orders, inserted in bulk in the state the payment
 * transaction (src/orders/payment.service.ts applyPaymentSuccess) leaves an
 * order in as far as the supplier workflow reads it: the orders row paid
 * (paid_at, payment_intent_id) with its items, its payments row, its
 * order_events (placed; pending_payment → paid), its supplier_orders row
 * (src/supplier/submission.ts: external id = order number, the one
 * idempotency key), and one supplier__submit_order job per order, enqueued as
 * sendSubmitJob does (data { orderId }, singletonKey order:<id>, the queue's
 * own retry options). No sales rows, invoice or invoice job: the submit job
 * reads none of them (loadSubmission: order, address, items, supplier row).
 */
import type { PgBoss } from 'pg-boss';
import type pg from 'pg';
import { submitIdempotencyKey } from '../../src/supplier/submission.ts';
import { submitSingletonKey, SupplierQueues, type SubmitOrderJob } from '../../src/supplier/supplier-queues.ts';
import type { Catalogue } from './database.ts';

/** Jobs per boss.insert call (one statement each). */
const JOB_CHUNK = 2_000;

export interface Backlog {
  /** The orders' ids (bigint as text) and numbers (= the supplier's external ids), in insertion order. */
  orderIds: string[];
  numbers: string[];
  /** Order lines and units in all. */
  lines: number;
  units: number;
}

/** Numbers TT-Bxxx-xxxx (hex of a run-wide counter): valid, unique among themselves, one in 32 of random ones could clash at most. */
let nextNumber = 1;
function backlogNumber(): string {
  const hex = (nextNumber++).toString(16).toUpperCase().padStart(7, '0');
  return `TT-B${hex.slice(0, 3)}-${hex.slice(3)}`;
}

export async function createBacklog(pool: pg.Pool, boss: PgBoss, catalogue: Catalogue, count: number, currency: string): Promise<Backlog> {
  // Deterministic: customers in turn, 1-3 lines of 1-2 units of distinct products.
  const head = { i: [] as number[], number: [] as string[], customer: [] as string[] };
  const item = { i: [] as number[], product: [] as string[], quantity: [] as number[] };
  const products = catalogue.productIds;
  for (let i = 0; i < count; i++) {
    head.i.push(i);
    head.number.push(backlogNumber());
    head.customer.push(catalogue.customerIds[i % catalogue.customerIds.length]!);
    const lines = 1 + (i % 3);
    for (let line = 0; line < lines; line++) {
      item.i.push(i);
      item.product.push(products[(i * 7 + line * 131) % products.length]!);
      item.quantity.push(1 + ((i + line) % 2));
    }
  }
  const client = await pool.connect();
  let orderIds: string[];
  try {
    await client.query('begin');
    await client.query(`create temp table backlog_head on commit drop as select * from unnest($1::int[], $2::text[], $3::bigint[]) as t(i, number, customer_id)`, [head.i, head.number, head.customer]);
    await client.query(`create temp table backlog_item on commit drop as select * from unnest($1::int[], $2::bigint[], $3::int[]) as t(i, product_id, quantity)`, [item.i, item.product, item.quantity]);
    const { rows } = await client.query<{ id: string; i: number }>(`
      with total as (
        select it.i, sum(p.price * it.quantity) as total from backlog_item it join products p on p.id = it.product_id group by it.i
      ), inserted as (
        insert into orders (number, customer_id, sales_agent_id, currency, total, payment_state, checkout_session_id, payment_intent_id, payment_attempts,
          customer_name, customer_email, address_line1, postal_code, city, country, expires_at, paid_at)
        select h.number, h.customer_id, (select min(id) from sales_agents), $1, t.total, 'paid', 'cs_backlog_' || h.number, 'pi_backlog_' || h.number, 1,
          c.name, c.email, 'Backlogstraat ' || (h.i + 1), '1011 AB', 'Amsterdam', 'NL', now() + interval '1 hour', now()
        from backlog_head h join total t using (i) join customers c on c.id = h.customer_id
        order by h.i
        returning id, number
      )
      select x.id::text as id, h.i from inserted x join backlog_head h using (number) order by h.i`, [currency]);
    orderIds = rows.map((row) => row.id);
    await client.query(`create temp table backlog_order on commit drop as select * from unnest($1::int[], $2::bigint[]) as t(i, order_id)`, [rows.map((row) => row.i), orderIds]);
    await client.query(`
      insert into order_items (order_id, product_id, quantity, unit_price, name)
      select o.order_id, it.product_id, it.quantity, p.price, p.name
      from backlog_item it join backlog_order o using (i) join products p on p.id = it.product_id order by o.order_id, it.product_id`);
    await client.query(`
      insert into payments (order_id, provider, provider_payment_id, amount, currency, status, raw)
      select o.id, 'stripe', o.payment_intent_id, o.total, o.currency, 'succeeded', '{"bench": "backlog"}'::jsonb
      from backlog_order b join orders o on o.id = b.order_id order by o.id`);
    await client.query(`
      insert into order_events (order_id, dimension, from_state, to_state, reason, source)
      select b.order_id, e.dimension, e.from_state, e.to_state, e.reason, e.source
      from backlog_order b cross join (values
        (1, 'payment', null, 'pending_payment', 'order placed', 'checkout'),
        (2, 'fulfilment', null, 'unfulfilled', 'order placed', 'checkout'),
        (3, 'payment', 'pending_payment', 'paid', 'payment succeeded', 'bench:backlog')) as e(k, dimension, from_state, to_state, reason, source)
      order by b.order_id, e.k`);
    await client.query(`
      insert into supplier_orders (order_id, external_id, idempotency_key)
      select * from unnest($1::bigint[], $2::text[], $3::text[])`,
    [orderIds, head.number, orderIds.map((id, i) => submitIdempotencyKey(id, head.number[i]!))]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
  // As sendSubmitJob: { orderId } with the order's singleton key; the rest from the queue (retries, expiry, dead letter).
  for (let from = 0; from < orderIds.length; from += JOB_CHUNK) {
    const jobs = orderIds.slice(from, from + JOB_CHUNK).map((orderId) => ({ data: { orderId } satisfies SubmitOrderJob, singletonKey: submitSingletonKey(orderId) }));
    await boss.insert(SupplierQueues.submitOrder, jobs);
  }
  return { orderIds, numbers: head.number, lines: item.i.length, units: item.quantity.reduce((a, b) => a + b, 0) };
}
