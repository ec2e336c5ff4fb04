import { sql, type SelectQueryBuilder } from 'kysely';
import type { Db } from '../db/kysely.ts';
import type { Database } from '../db/schema.ts';
import type { Order } from '../orders/orders.schema.ts';
import { ORDER_NUMBER, type OrderListQuery } from './ops-query.ts';

export interface OrderListRow {
  id: string;
  number: string;
  created_at: Date;
  customer_name: string;
  customer_email: string;
  total: string;
  currency: string;
  payment_state: string;
  fulfilment_state: string;
  needs_review: boolean;
}

export interface StateCount {
  payment_state: string;
  fulfilment_state: string;
  needs_review: boolean;
  n: string;
}

type OrdersQuery<O> = SelectQueryBuilder<Database, 'orders', O>;

/**
 * The range and the search, which both the list and the counts apply: the
 * days are calendar days of the business time zone, like the stats pages'.
 * An order number is looked up by its unique index; other text is a
 * case-insensitive substring of the number or the e-mail address (% and _
 * literal), which reads every order in the range: there is no index for it.
 */
function rangeAndSearch<O>(query: OrdersQuery<O>, filter: Pick<OrderListQuery, 'from' | 'to' | 'q'>): OrdersQuery<O> {
  let q = query;
  if (filter.from !== undefined && filter.to !== undefined) {
    q = q.where('created_at', '>=', sql<Date>`(${filter.from}::date)::timestamp at time zone stats_time_zone()`)
      .where('created_at', '<', sql<Date>`(${filter.to}::date + 1)::timestamp at time zone stats_time_zone()`);
  }
  if (filter.q !== undefined) {
    const text = filter.q;
    if (ORDER_NUMBER.test(text.toUpperCase())) {
      q = q.where('number', '=', text.toUpperCase());
    } else {
      const pattern = `%${text.replace(/[\\%_]/g, '\\$&')}%`;
      q = q.where((eb) => eb.or([eb('number', 'ilike', pattern), eb('customer_email', 'ilike', pattern)]));
    }
  }
  return q;
}

/**
 * One page of orders, newest first. Newest is by id (ids are handed out in
 * creation order), which the primary key walks backwards: a page costs the
 * rows it reads until it has per_page + 1 that match, not the whole table.
 * `after` reads forwards (the previous page) and turns the rows round.
 */
export async function listOrders(db: Db, query: OrderListQuery): Promise<{ rows: OrderListRow[]; more: boolean }> {
  let q = rangeAndSearch(db.selectFrom('orders').select([
    'id', 'number', 'created_at', 'customer_name', 'customer_email', 'total', 'currency', 'payment_state', 'fulfilment_state', 'needs_review',
  ]), query);
  if (query.payment) q = q.where('payment_state', '=', query.payment);
  if (query.fulfilment) q = q.where('fulfilment_state', '=', query.fulfilment);
  if (query.review !== undefined) q = q.where('needs_review', '=', query.review);
  if (query.after !== undefined) {
    const rows = await q.where('id', '>', query.after).orderBy('id', 'asc').limit(query.perPage + 1).execute();
    return { rows: rows.slice(0, query.perPage).reverse(), more: rows.length > query.perPage };
  }
  if (query.before !== undefined) q = q.where('id', '<', query.before);
  const rows = await q.orderBy('id', 'desc').limit(query.perPage + 1).execute();
  return { rows: rows.slice(0, query.perPage), more: rows.length > query.perPage };
}

/**
 * Orders of the range and search by (payment, fulfilment, review): the
 * counts at the top of the list, from which each dimension's are summed. The
 * state filters are left out, so each count says what choosing it would show.
 */
export async function countOrders(db: Db, query: Pick<OrderListQuery, 'from' | 'to' | 'q'>): Promise<StateCount[]> {
  return rangeAndSearch(db.selectFrom('orders').select(['payment_state', 'fulfilment_state', 'needs_review', sql<string>`count(*)`.as('n')]), query)
    .groupBy(['payment_state', 'fulfilment_state', 'needs_review'])
    .execute();
}

export async function findOrder(db: Db, ref: { orderId: string } | { number: string }): Promise<Order | undefined> {
  const q = db.selectFrom('orders').selectAll();
  return ('orderId' in ref ? q.where('id', '=', ref.orderId) : q.where('number', '=', ref.number)).executeTakeFirst();
}

export async function orderItems(db: Db, orderId: string) {
  return db.selectFrom('order_items').select(['product_id', 'name', 'quantity', 'unit_price']).where('order_id', '=', orderId).orderBy('id').execute();
}

/** Numbers of the given orders, for links from job rows. */
export async function orderNumbers(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('orders').select(['id', 'number']).where('id', 'in', [...ids]).execute();
  return new Map(rows.map((row) => [row.id, row.number]));
}
