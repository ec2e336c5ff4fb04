import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { FulfilmentState, PaymentState } from '../orders/order-states.ts';
import type { ShipmentItem, SupplierShipment } from './supplier-api.types.ts';
import type { SupplierOrderRow } from './supplier.schema.ts';
import { prepared } from '../db/kysely.ts';

type Trx = Transaction<Database>;

/** The order's fields the supplier workflow reads (and mails), locked for the caller's transaction. */
export interface LockedOrder {
  id: string;
  number: string;
  fulfilment_state: FulfilmentState;
  payment_state: PaymentState;
  customer_name: string;
  customer_email: string;
  total: string;
  currency: string;
}

/**
 * The order and its supplier_orders row, both locked: always the order
 * first, as every transition does, so two callers queue on the same row in
 * the same order and cannot deadlock.
 */
export async function lockOrderForSupplier(trx: Trx, orderId: string): Promise<{ order: LockedOrder; supplier: SupplierOrderRow } | undefined> {
  const order = await lockOrder(trx, orderId);
  if (!order) return undefined;
  const supplier = await trx.selectFrom('supplier_orders').selectAll().where('order_id', '=', orderId).forUpdate().modifyEnd(prepared).executeTakeFirst();
  return supplier && { order, supplier };
}

/** The order alone, locked (an order never paid has no supplier_orders row). */
export function lockOrder(trx: Trx, orderId: string): Promise<LockedOrder | undefined> {
  return trx.selectFrom('orders')
    .select(['id', 'number', 'fulfilment_state', 'payment_state', 'customer_name', 'customer_email', 'total', 'currency'])
    .where('id', '=', orderId).forUpdate().modifyEnd(prepared).executeTakeFirst();
}

export async function orderIdOfExternalId(trx: Trx, externalId: string): Promise<string | undefined> {
  const row = await trx.selectFrom('supplier_orders').select('order_id').where('external_id', '=', externalId).modifyEnd(prepared).executeTakeFirst();
  return row?.order_id;
}

/**
 * Records a package; a repeated report of it (the same supplier shipment id)
 * only fills in its delivery time. Returns whether it was new.
 */
export async function upsertShipment(trx: Trx, orderId: string, shipment: SupplierShipment): Promise<boolean> {
  const row = await trx.insertInto('shipments').values({
    order_id: orderId,
    supplier_shipment_id: shipment.id,
    carrier: shipment.carrier,
    service: shipment.service || null,
    tracking_number: shipment.tracking_number || null,
    tracking_url: /^https?:\/\//i.test(shipment.tracking_url ?? '') ? shipment.tracking_url : null,
    items: JSON.stringify(shipment.items ?? []),
    shipped_at: shipment.shipped_at ?? null,
    delivered_at: shipment.delivered_at ?? null,
  })
    .onConflict((conflict) => conflict.column('supplier_shipment_id').doUpdateSet({
      delivered_at: sql`coalesce(shipments.delivered_at, excluded.delivered_at)`,
    }))
    // xmax is 0 on a row this statement inserted, the updating transaction's id on one it updated.
    .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
    .executeTakeFirstOrThrow();
  return row.inserted;
}

/** Every unit shipped so far for the order, over all its packages. */
export async function shippedItems(trx: Trx, orderId: string): Promise<ShipmentItem[]> {
  const rows = await trx.selectFrom('shipments').select('items').where('order_id', '=', orderId).modifyEnd(prepared).execute();
  return rows.flatMap((row) => row.items);
}
