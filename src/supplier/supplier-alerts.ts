import type { Transaction } from 'kysely';
import { raiseAlert } from '../alerts/raise-alert.ts';
import type { Database } from '../db/schema.ts';
import type { SupplierDeps } from './supplier-deps.ts';

type Trx = Transaction<Database>;

/**
 * The supplier workflow's alerts, raised in the caller's transaction (one row
 * per incident key: raising it again counts, it does not repeat). Titles and
 * texts name the order by id and number and say what to do; never the
 * customer, and never a supplier's message (it may quote the address).
 */
export interface OrderRef {
  id: string;
  number: string;
}

export function alertSupplierFailed(trx: Trx, deps: SupplierDeps, order: OrderRef, attempts: number, lastError: string) {
  return raiseAlert(trx, deps.boss, {
    incidentKey: `supplier_failed:${order.id}`,
    severity: 'critical',
    title: `Order ${order.number} could not be sent to the supplier`,
    text: `Order ${order.number} (id ${order.id}) is paid, but ${attempts} attempts to hand it to the supplier failed (last: ${lastError}). `
      + 'It is supplier_failed and its job is in supplier__submit_order__dead_letter. Once the supplier is reachable, resubmit it (or cancel it, which refunds the customer).',
    orderId: order.id,
  });
}

export function alertSupplierRejected(trx: Trx, deps: SupplierDeps, order: OrderRef, code: string) {
  return raiseAlert(trx, deps.boss, {
    incidentKey: `supplier_rejected:${order.id}`,
    severity: 'warning',
    title: `The supplier rejected order ${order.number} (${code})`,
    text: `The supplier refused order ${order.number} (id ${order.id}) with ${code}. The customer has been told and is being refunded with a credit note. `
      + 'Check the product mapping or the stock for the next orders.',
    orderId: order.id,
  });
}

export function alertSupplierCancelled(trx: Trx, deps: SupplierDeps, order: OrderRef, status: string) {
  return raiseAlert(trx, deps.boss, {
    incidentKey: `supplier_cancelled:${order.id}`,
    severity: 'warning',
    title: `The supplier ${status === 'failed' ? 'failed' : 'cancelled'} order ${order.number}`,
    text: `The supplier reported order ${order.number} (id ${order.id}) as ${status} after accepting it. The customer has been told and is being refunded with a credit note.`,
    orderId: order.id,
  });
}

export function alertSupplierOnHold(trx: Trx, deps: SupplierDeps, order: OrderRef) {
  return raiseAlert(trx, deps.boss, {
    incidentKey: `supplier_on_hold:${order.id}`,
    severity: 'warning',
    title: `The supplier put order ${order.number} on hold`,
    text: `The supplier holds order ${order.number} (id ${order.id}) before production; its dashboard says why. It goes on once the supplier releases it.`,
    orderId: order.id,
  });
}

/** A webhook about an order we do not know: stored and marked processed; one alert per external id. */
export function alertUnknownSupplierOrder(trx: Trx, deps: SupplierDeps, externalId: string, eventId: string) {
  // The supplier's external ids are letters, digits and . _ : - (64 at most); anything else is not repeated.
  const id = externalId.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 64);
  const event = eventId.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 64);
  return raiseAlert(trx, deps.boss, {
    incidentKey: `unknown_supplier_order:${id}`,
    severity: 'warning',
    title: `A supplier webhook names an order we do not know (${id})`,
    text: `Supplier event ${event} is about external_id ${id}, which is no order of ours. It was stored in webhook_events and marked processed; nothing else happened.`,
  });
}

/** The supplier has an active order for one we cancelled (a cancel that crossed a submission): someone must cancel it there. */
export function alertActiveAfterCancel(trx: Trx, deps: SupplierDeps, order: OrderRef, status: string) {
  return raiseAlert(trx, deps.boss, {
    incidentKey: `supplier_order_active_after_cancel:${order.id}`,
    severity: 'critical',
    title: `Order ${order.number} is cancelled here but ${status} at the supplier`,
    text: `Order ${order.number} (id ${order.id}) was cancelled, yet the supplier reports it ${status}. Cancel it in the supplier's dashboard, or contact the supplier.`,
    orderId: order.id,
  });
}

/** Polling found no order at the supplier for one it accepted. */
export function alertMissingAtSupplier(trx: Trx, deps: SupplierDeps, order: OrderRef) {
  return raiseAlert(trx, deps.boss, {
    incidentKey: `supplier_order_missing:${order.id}`,
    severity: 'critical',
    title: `The supplier no longer knows order ${order.number}`,
    text: `Order ${order.number} (id ${order.id}) was accepted by the supplier, but asking about it now answers 404. Contact the supplier.`,
    orderId: order.id,
  });
}

/** The supplier reports cancelled or failed an order that has begun shipping here: nothing is undone automatically. */
export function alertCancelledAfterShipping(trx: Trx, deps: SupplierDeps, order: OrderRef, status: string) {
  return raiseAlert(trx, deps.boss, {
    incidentKey: `supplier_cancelled_after_shipping:${order.id}`,
    severity: 'critical',
    title: `The supplier reports order ${order.number} ${status} after it began shipping`,
    text: `Order ${order.number} (id ${order.id}) has shipments, yet the supplier now reports it ${status}. Nothing was refunded automatically: check with the supplier, then refund from the operations page if needed.`,
    orderId: order.id,
  });
}
