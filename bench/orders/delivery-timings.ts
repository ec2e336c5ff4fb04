/**
 * Phase 6: each order's milestones from payment to delivery, read back from
 * the rows the workflow wrote and from the mailbox. Database times are now()
 * of the writing transaction (its start), except supplier_orders.submitted_at,
 * the worker's clock when it applied the supplier's first answer or webhook;
 * all on this machine's clock, as the mailbox's.
 */
import type pg from 'pg';
import type { Mailbox } from './helper.ts';
import type { PaidOrder } from './timings.ts';

export interface DeliveryTimeline {
  orderId: string;
  number: string;
  /** When the benchmark asked the gateway to pay it. */
  payAt: number;
  /** orders.paid_at. */
  paidAt: number | null;
  /** The invoice e-mail stored by the mail sandbox. */
  invoiceMailAt: number | null;
  /** supplier_orders.submitted_at: the supplier has the order. */
  submittedAt: number | null;
  /** The fulfilment transition to delivered (order_events.created_at). */
  deliveredAt: number | null;
  /** The "delivered" e-mail stored by the mail sandbox: the order is complete (with fulfilment delivered). */
  deliveredMailAt: number | null;
  fulfilment: string;
}

interface Row {
  order_id: string;
  fulfilment_state: string;
  paid_at: Date | null;
  submitted_at: Date | null;
  delivered_at: Date | null;
  invoice_message_id: string | null;
  delivered_message_id: string | null;
}

export async function deliveryTimelines(pool: pg.Pool, orders: PaidOrder[], mailbox: Mailbox): Promise<DeliveryTimeline[]> {
  const { rows } = await pool.query<Row>(`/* bench */
    with phase as (select unnest($1::bigint[]) as id)
    select p.id::text as order_id, o.fulfilment_state, o.paid_at, s.submitted_at,
      (select min(e.created_at) from order_events e where e.order_id = p.id and e.dimension = 'fulfilment' and e.to_state = 'delivered') as delivered_at,
      (select min(x.message_id) from email_outbox x where x.order_id = p.id and x.purpose = 'invoice') as invoice_message_id,
      (select min(x.message_id) from email_outbox x where x.order_id = p.id and x.purpose = 'delivered') as delivered_message_id
    from phase p
    join orders o on o.id = p.id
    left join supplier_orders s on s.order_id = p.id`, [orders.map((order) => order.orderId)]);
  const byId = new Map(rows.map((row) => [row.order_id, row]));
  const time = (date: Date | null | undefined) => (date ? date.getTime() : null);
  const arrived = (messageId: string | null | undefined) => (messageId ? mailbox.received.get(messageId)?.[0] ?? null : null);
  return orders.map((order) => {
    const row = byId.get(order.orderId);
    return {
      orderId: order.orderId, number: order.number, payAt: order.payAt,
      paidAt: time(row?.paid_at), invoiceMailAt: arrived(row?.invoice_message_id), submittedAt: time(row?.submitted_at),
      deliveredAt: time(row?.delivered_at), deliveredMailAt: arrived(row?.delivered_message_id), fulfilment: row?.fulfilment_state ?? 'missing',
    };
  });
}
