import { sql } from 'kysely';
import type { Db } from '../db/kysely.ts';
import type { InvoiceKind } from '../orders/orders.schema.ts';

export interface ShopProduct {
  id: string;
  name: string;
  /** numeric as pg returns it: "12.50". */
  price: string;
}

/** `q` matches anywhere in the name, case-insensitively; `%` and `_` are literal. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The first `limit` products by name (then id, so the order is total), and
 * how many match in all. The name search uses the trigram index the stats
 * pages added (products_name_trgm_idx).
 */
export async function listProducts(db: Db, q: string, limit: number): Promise<{ products: ShopProduct[]; matching: number }> {
  let query = db.selectFrom('products');
  if (q) query = query.where('name', 'ilike', containsPattern(q));
  const [products, count] = await Promise.all([
    query.select(['id', 'name', 'price']).orderBy('name').orderBy('id').limit(limit).execute(),
    query.select(sql<string>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { products, matching: Number(count.n) };
}

/** The few columns the access checks need: the order's current checkout session and e-mail address. */
export async function findOrderForAccess(db: Db, number: string): Promise<{ id: string; checkoutSessionId: string | null; email: string } | undefined> {
  const row = await db.selectFrom('orders').select(['id', 'checkout_session_id', 'customer_email'])
    .where('number', '=', number).executeTakeFirst();
  return row && { id: row.id, checkoutSessionId: row.checkout_session_id, email: row.customer_email };
}

/** Why the order's payment last failed, as the state machine recorded it. */
export async function lastPaymentFailure(db: Db, orderId: string): Promise<string | undefined> {
  const row = await db.selectFrom('order_events').select('reason')
    .where('order_id', '=', orderId).where('dimension', '=', 'payment').where('to_state', '=', 'payment_failed')
    .orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row?.reason;
}

/** The id of the order's invoice (or credit note), once issued. */
export async function findDocumentId(db: Db, orderId: string, kind: InvoiceKind): Promise<string | undefined> {
  const row = await db.selectFrom('invoices').select('id').where('order_id', '=', orderId).where('kind', '=', kind).executeTakeFirst();
  return row?.id;
}
