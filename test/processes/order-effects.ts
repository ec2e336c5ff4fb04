import type { Test } from 'tap';
import { countRows } from '../helpers/order-workflow.ts';
import type { Fleet } from './process-fleet.ts';

/**
 * Every effect of these paid orders happened exactly once, however many
 * processes and attempts it took: paid once (one payment, one 'paid'
 * event), one sale per unit, one invoice each numbered without gaps from 1,
 * one PDF, one invoice e-mail queued and one received, one order at the
 * supplier, submitted once.
 */
export async function expectEveryEffectOnce(t: Test, fleet: Fleet, orders: { orderId: string; quantity: number }[]): Promise<void> {
  const ids = orders.map((order) => order.orderId);
  const n = orders.length;
  const perOrder = async (query: string) => {
    const { rows } = await fleet.pool.query<{ order_id: string; n: number }>(
      `select o.id::text as order_id, (select count(*)::int from (${query}) as x) as n from orders as o where o.id = any($1::bigint[]) order by o.id`, [ids]);
    return rows.filter((row) => row.n !== 1).map((row) => `order ${row.order_id}: ${row.n}`);
  };
  t.same(await perOrder(`select from orders where id = o.id and payment_state = 'paid'`), [], `${n} orders paid`);
  t.same(await perOrder(`select from payments where order_id = o.id`), [], 'one payment per order');
  t.same(await perOrder(`select from order_events where order_id = o.id and dimension = 'payment' and to_state = 'paid'`), [], 'paid once each');
  t.same(await perOrder(`select from invoices where order_id = o.id and kind = 'invoice'`), [], 'one invoice per order');
  t.same(await perOrder(`select from invoice_documents d join invoices i on i.id = d.invoice_id where i.order_id = o.id and substring(d.pdf from 1 for 5) = '%PDF-'`), [], 'one PDF per invoice');
  t.same(await perOrder(`select from email_outbox where order_id = o.id and status = 'sent'`), [], 'one e-mail per order, sent');
  t.same(await perOrder(`select from supplier_orders where order_id = o.id and supplier_order_id is not null`), [], 'one order at the supplier per order');
  t.same(await perOrder(`select from order_events where order_id = o.id and to_state = 'submitted'`), [], 'submitted to the supplier once each');

  const units = orders.reduce((sum, order) => sum + order.quantity, 0);
  // Sales carry no order id: the test's database has no sales but these orders'.
  t.equal(await countRows(fleet, `select from sales`), units, `one sale per unit: ${units}`);
  const { rows } = await fleet.pool.query<{ n: number }>(`select sequence_number::int as n from invoices where kind = 'invoice' order by 1`);
  t.same(rows.map((row) => row.n), Array.from({ length: n }, (_, i) => i + 1), `invoice numbers 1 to ${n}, without gaps`);

  const messages = await fleet.messages();
  t.equal(messages.length, n, `${n} e-mails in the mailbox`);
  t.equal(new Set(messages.map((message) => message.subject)).size, n, 'each about another invoice');
  const atSupplier = await fleet.supplier.orders();
  t.equal(atSupplier.length, n, `${n} orders at the supplier`);
  t.equal(new Set(atSupplier.map((order) => order.external_id)).size, n, 'none twice');
}
