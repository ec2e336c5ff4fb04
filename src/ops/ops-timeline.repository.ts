import { sql } from 'kysely';
import type { Db } from '../db/kysely.ts';
import type { Order } from '../orders/orders.schema.ts';

/** Everything about one order that lives in the application's own tables. */
export async function orderRecords(db: Db, order: Pick<Order, 'id' | 'number' | 'checkout_session_id' | 'payment_intent_id'>) {
  const [events, webhooks, payments, invoices, emails] = await Promise.all([
    db.selectFrom('order_events').select(['id', 'dimension', 'from_state', 'to_state', 'reason', 'source', 'created_at'])
      .where('order_id', '=', order.id).orderBy('id').execute(),
    webhookEventsOf(db, order),
    db.selectFrom('payments').select(['id', 'provider', 'provider_payment_id', 'amount', 'currency', 'status', 'created_at', 'updated_at'])
      .where('order_id', '=', order.id).orderBy('id').execute(),
    db.selectFrom('invoices as i').leftJoin('invoice_documents as d', 'd.invoice_id', 'i.id')
      .select(['i.id', 'i.kind', 'i.number', 'i.total', 'i.currency', 'i.issued_at', 'd.rendered_at'])
      .where('i.order_id', '=', order.id).orderBy('i.id').execute(),
    // No bodies, no attachments: what was sent when, and what went wrong.
    db.selectFrom('email_outbox').select(['id', 'purpose', 'status', 'attempts', 'last_error', 'created_at', 'sent_at'])
      .where('order_id', '=', order.id).orderBy('id').execute(),
  ]);
  return { events, webhooks, payments, invoices, emails };
}

export type OrderRecords = Awaited<ReturnType<typeof orderRecords>>;

/**
 * The order's stored webhooks: those naming it (metadata, client reference,
 * its checkout session or payment intent) and those its history names as a
 * source. There is no index on the payload, so this reads webhook_events
 * whole: fine for a page a person opens, not for a loop.
 */
function webhookEventsOf(db: Db, order: Pick<Order, 'id' | 'number' | 'checkout_session_id' | 'payment_intent_id'>) {
  const object = sql`w.payload -> 'data' -> 'object'`;
  return db.selectFrom('webhook_events as w')
    .select(['w.id', 'w.provider', 'w.event_id', 'w.type', 'w.received_at', 'w.processed_at', 'w.outcome', 'w.processing_error'])
    .where((eb) => eb.or([
      eb(sql`${object} -> 'metadata' ->> 'order_id'`, '=', order.id),
      eb(sql`${object} ->> 'client_reference_id'`, '=', order.id),
      ...(order.checkout_session_id ? [eb(sql`${object} ->> 'id'`, '=', order.checkout_session_id)] : []),
      ...(order.payment_intent_id
        ? [eb(sql`${object} ->> 'id'`, '=', order.payment_intent_id), eb(sql`${object} ->> 'payment_intent'`, '=', order.payment_intent_id)]
        : []),
      // The supplier's webhooks name the order by its number (external_id).
      eb(sql`w.payload -> 'data' -> 'order' ->> 'external_id'`, '=', order.number),
      eb('w.event_id', 'in', eb.selectFrom('order_events').select(sql<string>`source`.as('source')).where('order_id', '=', order.id).where('source', 'is not', null)),
    ]))
    .orderBy('w.id').limit(500).execute();
}

/**
 * Tables of the supplier issue (shipments, supplier calls) and of alerts,
 * read only where they exist and have an order_id column: their columns are
 * theirs to choose, so rows come back as plain objects (to_jsonb) and are
 * shown as they are. Nothing is read from a table that is not there.
 */
export const OPTIONAL_TABLES = [
  { table: 'supplier_orders', title: 'At the supplier', kind: 'supplier order' },
  { table: 'shipments', title: 'Shipments', kind: 'shipment' },
  { table: 'supplier_calls', title: 'Supplier calls', kind: 'supplier call' },
  { table: 'alerts', title: 'Alerts', kind: 'alert' },
] as const;

export type OptionalTable = (typeof OPTIONAL_TABLES)[number];

export interface OptionalRows {
  spec: OptionalTable;
  rows: Record<string, unknown>[];
}

/** Column names that hold when a row happened, most telling first. */
const TIME_COLUMNS = ['created_at', 'started_at', 'occurred_at', 'requested_at', 'first_raised_at', 'first_seen_at', 'raised_at', 'shipped_at', 'updated_at'];

export async function optionalRows(db: Db, orderId: string): Promise<(OptionalRows & { timeColumn: string | undefined })[]> {
  const names = OPTIONAL_TABLES.map((spec) => spec.table);
  const { rows: columns } = await sql<{ table_name: string; column_name: string }>`
    select table_name::text, column_name::text from information_schema.columns
    where table_schema = current_schema() and table_name = any(${names}::text[])`.execute(db);
  const found = [];
  for (const spec of OPTIONAL_TABLES) {
    const own = columns.filter((c) => c.table_name === spec.table).map((c) => c.column_name);
    if (!own.includes('order_id')) continue;
    const timeColumn = TIME_COLUMNS.find((name) => own.includes(name));
    const orderBy = timeColumn ?? (own.includes('id') ? 'id' : 'order_id');
    const { rows } = await sql<{ row: Record<string, unknown> }>`
      select to_jsonb(t) as row from ${sql.table(spec.table)} as t
      where t.order_id = ${orderId}
      order by ${sql.ref(`t.${orderBy}`)} limit 200`.execute(db);
    found.push({ spec, rows: rows.map((r) => r.row), timeColumn });
  }
  return found;
}
