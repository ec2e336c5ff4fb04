/**
 * The supplier's wire objects (docs/supplier-api.md): what POST /orders
 * answers, GET returns and every webhook carries. Timestamps are ISO 8601 in
 * UTC; ids are the supplier's strings.
 */

export const ORDER_STATUSES = ['pending', 'in_production', 'on_hold', 'partially_shipped', 'shipped', 'delivered', 'cancelled', 'failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const EVENT_TYPES = [
  'order.accepted', 'order.in_production', 'order.on_hold', 'order.shipment_created',
  'order.shipped', 'order.delivered', 'order.cancelled', 'order.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface Recipient {
  name: string;
  address1: string;
  address2: string | null;
  city: string;
  /** Required for US, CA and AU; null elsewhere unless given. */
  state_code: string | null;
  zip: string;
  /** ISO 3166-1 alpha-2, upper case. */
  country_code: string;
  email: string | null;
}

export interface OrderItem {
  sku: string;
  quantity: number;
  name: string;
}

export interface ShipmentItem {
  sku: string;
  quantity: number;
}

export interface Shipment {
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
  /** Our order id, unique at the supplier. */
  external_id: string;
  status: OrderStatus;
  /** Why an order is on hold, failed or cancelled; null otherwise. */
  status_reason: string | null;
  recipient: Recipient;
  items: OrderItem[];
  shipments: Shipment[];
  created: string;
  updated: string;
}

export interface SupplierEvent {
  id: string;
  type: EventType;
  created: string;
  data: { order: SupplierOrder; shipment?: Shipment };
}

/** A copy that later changes to the order cannot reach (responses, events). */
export function snapshot(order: SupplierOrder): SupplierOrder {
  return structuredClone(order);
}
