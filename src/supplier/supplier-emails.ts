import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { queueEmail } from '../email/queue-email.ts';
import { formatAmount } from '../orders/money.ts';
import type { SupplierShipment } from './supplier-api.types.ts';
import type { SupplierDeps } from './supplier-deps.ts';

type Trx = Transaction<Database>;

/** The order as the supplier's e-mails address it. */
export interface MailedOrder {
  id: string;
  number: string;
  customer_name: string;
  customer_email: string;
  total: string;
  currency: string;
}

/**
 * The customer's e-mails about the supplier side, queued in the caller's
 * transaction. Each has a dedupe key: a webhook delivered twice, a poll that
 * sees what a webhook already told, a job that runs again, all queue it once.
 */
function base(deps: SupplierDeps, order: MailedOrder) {
  return {
    orderId: order.id,
    to: order.customer_email,
    data: { customerName: order.customer_name, orderNumber: order.number, orderUrl: `${deps.config.publicUrl}/orders/${order.number}` },
  };
}

/** `shipment:<supplier shipment id>`: one e-mail per package, with its carrier and tracking. */
export function queueShipmentEmail(trx: Trx, deps: SupplierDeps, order: MailedOrder, shipment: SupplierShipment, partial: boolean): Promise<string> {
  const { data, ...email } = base(deps, order);
  return queueEmail(trx, deps.boss, {
    ...email, dedupeKey: `shipment:${shipment.id}`, purpose: 'shipment', template: 'shipment',
    data: {
      ...data, carrier: shipment.carrier, service: shipment.service || null, trackingNumber: shipment.tracking_number,
      trackingUrl: shipment.tracking_url, partial,
    },
  });
}

/** `delivered:<order id>`. */
export function queueDeliveredEmail(trx: Trx, deps: SupplierDeps, order: MailedOrder): Promise<string> {
  return queueEmail(trx, deps.boss, { ...base(deps, order), dedupeKey: `delivered:${order.id}`, purpose: 'delivered', template: 'delivered' });
}

/** `supplier-rejected:<order id>`: we cannot fulfil the order; the refund and its credit note follow. */
export function queueRejectedEmail(trx: Trx, deps: SupplierDeps, order: MailedOrder): Promise<string> {
  const { data, ...email } = base(deps, order);
  return queueEmail(trx, deps.boss, {
    ...email, dedupeKey: `supplier-rejected:${order.id}`, purpose: 'supplier-rejected', template: 'supplier-rejected',
    data: { ...data, total: `${formatAmount(order.total)} ${order.currency.toUpperCase()}` },
  });
}

/** `supplier-cancelled:<order id>`: the supplier cancelled (or failed) the order after accepting it; the refund follows. */
export function queueSupplierCancelledEmail(trx: Trx, deps: SupplierDeps, order: MailedOrder): Promise<string> {
  const { data, ...email } = base(deps, order);
  return queueEmail(trx, deps.boss, {
    ...email, dedupeKey: `supplier-cancelled:${order.id}`, purpose: 'supplier-cancelled', template: 'supplier-cancelled',
    data: { ...data, total: `${formatAmount(order.total)} ${order.currency.toUpperCase()}` },
  });
}
