/**
 * The supplier API's wire objects, as we read them (docs/supplier-api.md):
 * what POST /orders answers, GET /orders/:ref returns and every webhook
 * carries. Timestamps are ISO 8601 in UTC; ids are the supplier's strings.
 * Our own copy: the sandbox in src/sandboxes/supplier/ is a stand-in we test
 * against, not a library the workflow depends on.
 */

import { eventIdentity, MAX_EVENT_ID_LENGTH } from '../webhooks/webhook-payload.ts';

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

type Fields = Record<string, unknown>;
const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';
const isOptionalText = (value: unknown) => value === undefined || value === null || typeof value === 'string';

/**
 * An ISO 8601 timestamp in UTC (what the supplier sends) that names a real
 * moment: Postgres refuses "2026-02-30T…" where Date.parse rolls over, and a
 * refused timestamp would fail its job on every retry.
 */
function isUtcTimestamp(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(value)) return false;
  const parsed = new Date(value);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 19) === value.slice(0, 19);
}

function itemsProblem(value: unknown, where: string): string | null {
  if (!Array.isArray(value)) return `${where} is not a list`;
  const bad = value.findIndex((item) => !isObject(item) || !isText(item.sku) || !Number.isSafeInteger(item.quantity) || (item.quantity as number) < 0);
  return bad < 0 ? null : `${where}[${bad}] is not an item with a sku and a quantity`;
}

/** Why a package cannot be recorded (the fields upsertShipment writes), or null. */
function shipmentProblem(value: unknown, where: string): string | null {
  if (!isObject(value)) return `${where} is not an object`;
  if (!isText(value.id) || !isText(value.carrier)) return `${where} has no id or carrier`;
  for (const key of ['service', 'tracking_number', 'tracking_url'] as const) if (!isOptionalText(value[key])) return `${where}.${key} is not a string`;
  if (!(value.shipped_at === undefined || value.shipped_at === null || isUtcTimestamp(value.shipped_at))) return `${where}.shipped_at is not a UTC timestamp`;
  if (!(value.delivered_at === undefined || value.delivered_at === null || isUtcTimestamp(value.delivered_at))) return `${where}.delivered_at is not a UTC timestamp`;
  return itemsProblem(value.items, `${where}.items`);
}

/** Why a supplier order read from JSON we did not write cannot be applied (the fields the workflow relies on), or null. */
export function supplierOrderProblem(value: unknown, where = 'order'): string | null {
  if (!isObject(value)) return `${where} is not an object`;
  if (!isText(value.id) || !isText(value.external_id)) return `${where} has no id or external_id`;
  if (!(SUPPLIER_ORDER_STATUSES as readonly unknown[]).includes(value.status)) return `${where}.status is not a supplier status`;
  if (!isOptionalText(value.status_reason)) return `${where}.status_reason is not a string`;
  if (typeof value.updated !== 'string') return `${where}.updated is not a string`;
  const items = itemsProblem(value.items, `${where}.items`);
  if (items) return items;
  if (!Array.isArray(value.shipments)) return `${where}.shipments is not a list`;
  for (const [index, shipment] of value.shipments.entries()) {
    const problem = shipmentProblem(shipment, `${where}.shipments[${index}]`);
    if (problem) return problem;
  }
  return null;
}

export function isSupplierOrder(value: unknown): value is SupplierOrder {
  return supplierOrderProblem(value) === null;
}

/**
 * Why a signed supplier event cannot be applied (an id, a type, an order in
 * data.order, and a package in data.shipment when there is one), or null. The
 * route stores an event with a problem as refused; no job runs it.
 */
export function supplierEventProblem(value: unknown): string | null {
  if (!isObject(value)) return 'the body is not a JSON object';
  if (!eventIdentity(value)) return `the event has no usable id and type (strings of 1 to ${MAX_EVENT_ID_LENGTH} characters)`;
  if (!isObject(value.data)) return 'data is missing or not an object';
  const order = supplierOrderProblem(value.data.order, 'data.order');
  if (order) return order;
  return value.data.shipment === undefined || value.data.shipment === null ? null : shipmentProblem(value.data.shipment, 'data.shipment');
}

/** An event with an id, a type and an applicable order: anything else is refused before it is processed. */
export function isSupplierEvent(value: unknown): value is SupplierEvent {
  return supplierEventProblem(value) === null;
}
