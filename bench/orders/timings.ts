/**
 * Each order's milestones, read back after a phase from the rows the
 * workflow wrote and from the mailbox. The database's times are now() of the
 * writing transaction (its start), on the same clock as the mailbox's.
 */
import type pg from 'pg';
import type { Mailbox } from './helper.ts';
import type { OrderTimeline } from './model.ts';

export interface PaidOrder {
  orderId: string;
  number: string;
  payAt: number;
}

interface Row {
  order_id: string;
  webhook_at: Date | null;
  paid_at: Date | null;
  rendered_at: Date | null;
  send_started_at: Date | null;
  message_id: string | null;
}

export async function orderTimelines(pool: pg.Pool, orders: PaidOrder[], mailbox: Mailbox): Promise<OrderTimeline[]> {
  const ids = orders.map((order) => order.orderId);
  const { rows } = await pool.query<Row>(`
    with phase as (select unnest($1::bigint[]) as id),
    webhooks as (
      select (payload #>> '{data,object,metadata,order_id}')::bigint as order_id, min(received_at) as webhook_at
      from webhook_events
      where (payload #>> '{data,object,metadata,order_id}') = any($1::text[])
      group by 1
    )
    select p.id::text as order_id, w.webhook_at, o.paid_at, d.rendered_at, e.sent_at as send_started_at, e.message_id
    from phase p
    join orders o on o.id = p.id
    left join webhooks w on w.order_id = p.id
    left join invoices i on i.order_id = p.id and i.kind = 'invoice'
    left join invoice_documents d on d.invoice_id = i.id
    left join email_outbox e on e.dedupe_key = 'invoice:' || i.id`, [ids]);
  const byId = new Map(rows.map((row) => [row.order_id, row]));
  const time = (date: Date | null | undefined) => (date ? date.getTime() : null);
  return orders.map((order) => {
    const row = byId.get(order.orderId);
    const messageId = row?.message_id ?? null;
    const delivered = messageId ? mailbox.received.get(messageId) : undefined;
    return {
      orderId: order.orderId, number: order.number, payAt: order.payAt,
      webhookAt: time(row?.webhook_at), paidAt: time(row?.paid_at), renderedAt: time(row?.rendered_at),
      sendStartedAt: time(row?.send_started_at), messageId, deliveredAt: delivered?.[0] ?? null,
    };
  });
}
