import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/**
 * An operator's action in the order's history. order_events records state
 * changes (its dimension is payment, fulfilment or review); an action that
 * changes no state, such as sending a failed job again, is written as a row
 * whose from and to are the order's current state of that dimension, with
 * the action as its reason and `ops:<user>` as its source.
 */
export async function recordOpsAction(db: Kysely<Database>, action: { orderId: string; dimension: 'payment' | 'fulfilment'; reason: string; source: string }): Promise<void> {
  const column = action.dimension === 'payment' ? sql.ref('payment_state') : sql.ref('fulfilment_state');
  await sql`
    insert into order_events (order_id, dimension, from_state, to_state, reason, source)
    select id, ${action.dimension}, ${column}, ${column}, ${action.reason}, ${action.source}
    from orders where id = ${action.orderId}`.execute(db);
}
