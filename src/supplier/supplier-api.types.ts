/**
 * The supplier API's wire objects, as we read them (docs/supplier-api.md):
 * what POST /orders answers, GET /orders/:ref returns and every webhook
 * carries. Timestamps are ISO 8601 in UTC; ids are the supplier's strings.
 * Our own copy: the sandbox in src/sandboxes/supplier/ is a stand-in we test
 * against, not a library the workflow depends on.
 */

export const SUPPLIER_ORDER_STATUSES = ['pending', 'in_production', 'on_hold', 'partially_shipped', 'shipped', 'delivered', 'cancelled', 'failed'] as const;
export type SupplierOrderStatus = (typeof SUPPLIER_ORDER_STATUSES)[number];

export interface SupplierRecipient {
  name: string;
  address1: string;
  address2: string | null;
  city: string;
  state_code: string | null;
  zip: string;
  country_code: string;
  email: string | null;
}

export interface SupplierOrderItem {
  sku: string;
  quantity: number;
  name: string;
}

export interface ShipmentItem {
  sku: string;
  quantity: number;
}

export interface SupplierShipment {
  id: string;
  carrier: string;
  service: string;
  tracking_number: string;
  tracking_url: string;
  items: ShipmentItem[];
  shipped_at: string;
  delivered_at: string | null;
}

export interface SupplierOrder {
  id: string;
  external_id: string;
  status: SupplierOrderStatus;
  status_reason: string | null;
  items: SupplierOrderItem[];
  shipments: SupplierShipment[];
  created: string;
  updated: string;
}

/** The body of POST /orders. */
export interface SupplierOrderRequest {
  external_id: string;
  recipient: SupplierRecipient;
  items: SupplierOrderItem[];
}

export interface SupplierEvent {
  id: string;
  type: string;
  created: string;
  data: { order: SupplierOrder; shipment?: SupplierShipment };
}

/** A supplier order read from JSON we did not write: the fields the workflow relies on, checked. */
export function isSupplierOrder(value: unknown): value is SupplierOrder {
  if (typeof value !== 'object' || value === null) return false;
  const order = value as Record<string, unknown>;
  return typeof order.id === 'string' && typeof order.external_id === 'string'
    && (SUPPLIER_ORDER_STATUSES as readonly unknown[]).includes(order.status)
    && Array.isArray(order.items) && Array.isArray(order.shipments) && typeof order.updated === 'string';
}

/** An event with an id, a type and an order: anything else is refused before it is stored. */
export function isSupplierEvent(value: unknown): value is SupplierEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  const data = event.data as Record<string, unknown> | undefined;
  return typeof event.id === 'string' && event.id !== '' && typeof event.type === 'string'
    && typeof data === 'object' && data !== null && isSupplierOrder(data.order);
}
