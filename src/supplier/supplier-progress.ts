import type { Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { transitionFulfilment } from '../orders/order-state-machine.ts';
import { coversAllItems, fulfilmentPath, furthest, targetOfStatus, type ForwardState } from './fulfilment-path.ts';
import type { SupplierOrder, SupplierShipment } from './supplier-api.types.ts';
import { alertActiveAfterCancel, alertCancelledAfterShipping, alertSupplierOnHold } from './supplier-alerts.ts';
import { cancelFulfilment } from './supplier-cancellation.ts';
import type { SupplierDeps } from './supplier-deps.ts';
import { queueDeliveredEmail, queueShipmentEmail } from './supplier-emails.ts';
import { lockOrderForSupplier, orderIdOfExternalId, shippedItems, upsertShipment, type LockedOrder } from './supplier-orders.repository.ts';
import type { SupplierOrderRow } from './supplier.schema.ts';
import { prepared } from '../db/kysely.ts';

type Trx = Transaction<Database>;

/** What applying the supplier's view did, stored in webhook_events.outcome (or a job's result). */
export type ApplyOutcome = string;

export interface ApplyOptions {
  /** What told us: a webhook event id, `job:<id>`, `poll:<id>` (stored with every transition). */
  source: string;
  /** The package a shipment event is about (the order's snapshot lists it too). */
  shipment?: SupplierShipment;
}

/**
 * The one code path for everything the supplier tells us about an order, in
 * the caller's transaction: the submit job's answer, every webhook, every
 * poll. It takes the order as the supplier sees it (a full snapshot) and
 * brings ours up to it, so any number of reports, in any order, converge:
 * - the order and its supplier_orders row are locked;
 * - the supplier's order id is recorded; its status only if the snapshot is
 *   not older than the newest one applied (a reordered webhook);
 * - each package becomes one shipments row (by the supplier's shipment id),
 *   and a new one sends the customer its tracking e-mail;
 * - fulfilment only moves forward through the state machine: to partially
 *   shipped while some units are in no package, shipped once all are, then
 *   delivered (with its e-mail); a late "shipped" after "delivered" is nothing;
 * - cancelled or failed at the supplier after acceptance: cancelled here,
 *   refunded with a credit note, the customer told, the team alerted.
 */
export async function applySupplierOrder(trx: Trx, deps: SupplierDeps, remote: SupplierOrder, options: ApplyOptions): Promise<ApplyOutcome> {
  const orderId = await orderIdOfExternalId(trx, remote.external_id);
  const locked = orderId === undefined ? undefined : await lockOrderForSupplier(trx, orderId);
  if (!locked) return 'unknown_order';
  const { order, supplier } = locked;
  const log = deps.log.child({ orderId: order.id });
  if (supplier.supplier_order_id !== null && supplier.supplier_order_id !== remote.id) {
    log.error({ known: supplier.supplier_order_id, reported: remote.id }, 'the supplier reports another order for this external_id: ignored');
    return 'ignored: another supplier order';
  }
  const newer = await recordSupplierView(trx, supplier, remote);

  if (remote.status === 'cancelled' || remote.status === 'failed') {
    return cancelledAtSupplier(trx, deps, order, supplier, remote, options.source);
  }

  const packages = [...remote.shipments];
  if (options.shipment && !packages.some((known) => known.id === options.shipment!.id)) packages.push(options.shipment);
  const fresh: SupplierShipment[] = [];
  for (const shipment of packages) if (await upsertShipment(trx, order.id, shipment)) fresh.push(shipment);

  if (order.fulfilment_state === 'cancelled') {
    await alertActiveAfterCancel(trx, deps, order, remote.status);
    return 'ignored: cancelled here';
  }
  if (newer && remote.status === 'on_hold' && supplier.last_supplier_status !== 'on_hold') await alertSupplierOnHold(trx, deps, order);

  const shipped = await shippedItems(trx, order.id);
  const complete = coversAllItems(remote.items, shipped);
  let target: ForwardState = targetOfStatus(remote.status);
  if (shipped.length > 0) target = furthest(target, complete ? 'shipped' : 'partially_shipped');
  const moved = await walk(trx, deps, order, target, `the supplier reports the order ${remote.status}`, options.source);

  // A package without every unit is "part of your order", whether or not the rest has shipped by now.
  for (const shipment of fresh) await queueShipmentEmail(trx, deps, order, shipment, !coversAllItems(remote.items, shipment.items));
  if (moved.includes('delivered')) await queueDeliveredEmail(trx, deps, order);
  log.info({ supplierStatus: remote.status, moved, newShipments: fresh.length }, 'supplier news applied');
  return moved.length > 0 ? moved.at(-1)! : fresh.length > 0 ? 'new shipment' : 'no_change';
}

/** Records the supplier's id and, from a snapshot at least as new as the last one, its status. Returns whether it was at least as new. */
async function recordSupplierView(trx: Trx, supplier: SupplierOrderRow, remote: SupplierOrder): Promise<boolean> {
  const updated = new Date(remote.updated);
  const newer = supplier.supplier_status_at === null || Number.isNaN(updated.getTime()) || updated >= supplier.supplier_status_at;
  await trx.updateTable('supplier_orders').set({
    supplier_order_id: remote.id,
    submitted_at: supplier.submitted_at ?? new Date(),
    ...(newer ? {
      last_supplier_status: remote.status,
      supplier_status_at: Number.isNaN(updated.getTime()) ? new Date() : updated,
      supplier_status_reason: remote.status_reason,
    } : {}),
  }).where('order_id', '=', supplier.order_id).modifyEnd(prepared).execute();
  return newer;
}

/** Each allowed step from where the order is to `target`; the states it moved to. */
async function walk(trx: Trx, deps: SupplierDeps, order: LockedOrder, target: ForwardState, reason: string, source: string): Promise<string[]> {
  const moved: string[] = [];
  let from = order.fulfilment_state;
  for (const to of fulfilmentPath(order.fulfilment_state, target)) {
    if (!await transitionFulfilment(trx, { orderId: order.id, to, from: [from], reason, source }, deps.log)) break;
    moved.push(to);
    from = to;
  }
  return moved;
}

/**
 * The supplier cancelled or failed the order after accepting it. When we asked
 * for it (an operator's cancellation, marked before the call), it is our own
 * cancellation confirmed, recorded as the operator's; otherwise the customer
 * is refunded and told, and the team alerted. Once something has shipped
 * there is nothing to cancel here: the team is told instead.
 */
async function cancelledAtSupplier(trx: Trx, deps: SupplierDeps, order: LockedOrder, supplier: SupplierOrderRow, remote: SupplierOrder, source: string): Promise<ApplyOutcome> {
  const ours = supplier.cancel_requested_at !== null;
  const status = remote.status === 'failed' ? 'failed' : 'cancelled';
  const reason = ours
    ? 'cancelled by an operator; the supplier confirmed'
    : `the supplier ${status === 'failed' ? 'could not make' : 'cancelled'} the order: ${remote.status_reason ?? 'no reason given'}`;
  const outcome = await cancelFulfilment(trx, deps, order, {
    reason, source: ours ? (supplier.cancel_requested_by ?? source) : source, bySupplier: ours ? null : status,
  });
  if (outcome === 'no_change' && order.fulfilment_state !== 'cancelled') {
    deps.log.error({ orderId: order.id, fulfilment: order.fulfilment_state, supplierStatus: remote.status }, 'the supplier cancelled an order that has begun shipping');
    await alertCancelledAfterShipping(trx, deps, order, remote.status);
  }
  return outcome;
}
