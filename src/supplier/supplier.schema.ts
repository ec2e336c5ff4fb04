import type { ColumnType, Generated, GeneratedAlways, Selectable } from 'kysely';
import type { ShipmentItem, SupplierOrderStatus } from './supplier-api.types.ts';

/** bigint ids arrive from pg as strings (they can exceed 2^53). */
type BigIntString = string;
type Id = ColumnType<BigIntString, BigIntString | number, BigIntString | number>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface SupplierOrdersTable {
  order_id: Id;
  external_id: string;
  idempotency_key: string;
  supplier_order_id: string | null;
  submitted_at: NullableTimestamp;
  last_supplier_status: SupplierOrderStatus | null;
  supplier_status_at: NullableTimestamp;
  supplier_status_reason: string | null;
  rejection_code: string | null;
  rejection_reason: string | null;
  rejected_at: NullableTimestamp;
  cancel_requested_at: NullableTimestamp;
  cancel_requested_by: string | null;
  last_polled_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ShipmentsTable {
  id: GeneratedAlways<BigIntString>;
  order_id: Id;
  supplier_shipment_id: string;
  carrier: string;
  service: string | null;
  tracking_number: string | null;
  tracking_url: string | null;
  items: Json<ShipmentItem[]>;
  shipped_at: NullableTimestamp;
  delivered_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface SupplierCallsTable {
  id: GeneratedAlways<BigIntString>;
  order_id: ColumnType<BigIntString | null, BigIntString | number | null | undefined, BigIntString | number | null>;
  method: string;
  path: string;
  idempotency_key: string | null;
  status: number | null;
  error: string | null;
  duration_ms: number | null;
  source: string | null;
  started_at: Generated<Date>;
  finished_at: NullableTimestamp;
}

/** Kysely table types of the supplier workflow. */
export interface SupplierTables {
  supplier_orders: SupplierOrdersTable;
  shipments: ShipmentsTable;
  supplier_calls: SupplierCallsTable;
}

export type SupplierOrderRow = Selectable<SupplierOrdersTable>;
export type ShipmentRow = Selectable<ShipmentsTable>;
export type SupplierCall = Selectable<SupplierCallsTable>;
