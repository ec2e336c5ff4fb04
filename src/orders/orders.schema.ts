import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable } from 'kysely';
import type { FulfilmentState, PaymentState } from './order-states.ts';

/** bigint ids arrive from pg as strings (they can exceed 2^53). */
type BigIntString = string;
/** numeric money arrives as a string: exact, never a float. */
type Money = ColumnType<string, string | number, string | number>;
type Id = ColumnType<BigIntString, BigIntString | number, BigIntString | number>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface OrdersTable {
  id: GeneratedAlways<BigIntString>;
  number: string;
  customer_id: Id;
  sales_agent_id: Id;
  referral_code: string | null;
  currency: string;
  total: Money;
  payment_state: Generated<PaymentState>;
  fulfilment_state: Generated<FulfilmentState>;
  needs_review: Generated<boolean>;
  review_reason: string | null;
  checkout_session_id: string | null;
  checkout_url: string | null;
  payment_intent_id: string | null;
  payment_attempts: Generated<number>;
  customer_name: string;
  customer_email: string;
  address_line1: string;
  address_line2: string | null;
  postal_code: string;
  city: string;
  country: string;
  expires_at: Timestamp;
  paid_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OrderItemsTable {
  id: GeneratedAlways<BigIntString>;
  order_id: Id;
  product_id: Id;
  quantity: number;
  unit_price: Money;
  name: string;
}

export interface PaymentsTable {
  id: GeneratedAlways<BigIntString>;
  order_id: Id;
  provider: Generated<string>;
  provider_payment_id: string;
  amount: Money;
  currency: string;
  status: 'succeeded' | 'refund_pending' | 'refunded';
  raw: Json<unknown>;
  /** A second payment for an order already paid: refunded on its own, the order staying paid. */
  duplicate: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type OrderEventDimension = 'payment' | 'fulfilment' | 'review';

export interface OrderEventsTable {
  id: GeneratedAlways<BigIntString>;
  order_id: Id;
  dimension: OrderEventDimension;
  from_state: string | null;
  to_state: string;
  reason: string;
  source: string | null;
  created_at: Timestamp;
}

export interface WebhookEventsTable {
  id: GeneratedAlways<BigIntString>;
  provider: string;
  event_id: string;
  type: string;
  /** Null only for a refused body that is not JSON (raw_body has it). */
  payload: ColumnType<unknown, string | null, string | null>;
  received_at: Timestamp;
  processed_at: Date | null;
  outcome: string | null;
  processing_error: string | null;
  /** Why a signed event was refused (stored, acknowledged, never processed); null for an accepted one. */
  refused_reason: string | null;
  /** The body as received, kept when the payload is not a faithful copy of it. */
  raw_body: Buffer | null;
}

export interface InvoiceCountersTable {
  series: string;
  next_value: ColumnType<BigIntString, BigIntString | number, BigIntString | number>;
}

export type InvoiceKind = 'invoice' | 'credit_note';

export interface InvoicesTable {
  id: GeneratedAlways<BigIntString>;
  kind: InvoiceKind;
  series: string;
  sequence_number: ColumnType<BigIntString, BigIntString | number, never>;
  number: string;
  order_id: Id;
  credits_invoice_id: Id | null;
  /** For a credit note refunding a second payment: that payment (the order's own refund has none). */
  payment_id: Id | null;
  snapshot: Json<unknown>;
  total: Money;
  currency: string;
  issued_at: Timestamp;
}

export interface InvoiceDocumentsTable {
  invoice_id: Id;
  pdf: Buffer;
  rendered_at: Timestamp;
}

/** Kysely table types of the order workflow (orders, payments, invoices, inbox…). */
export interface OrderTables {
  orders: OrdersTable;
  order_items: OrderItemsTable;
  payments: PaymentsTable;
  order_events: OrderEventsTable;
  webhook_events: WebhookEventsTable;
  invoice_counters: InvoiceCountersTable;
  invoices: InvoicesTable;
  invoice_documents: InvoiceDocumentsTable;
}

export type Order = Selectable<OrdersTable>;
export type NewOrder = Insertable<OrdersTable>;
export type OrderItem = Selectable<OrderItemsTable>;
export type Invoice = Selectable<InvoicesTable>;
export type WebhookEvent = Selectable<WebhookEventsTable>;
