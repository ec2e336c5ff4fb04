import type { ColumnType, GeneratedAlways, Insertable, Selectable } from 'kysely';
import type { AlertTables } from '../alerts/alerts.schema.ts';
import type { EmailTables } from '../email/email.schema.ts';
import type { OrderTables } from '../orders/orders.schema.ts';
import type { SupplierTables } from '../supplier/supplier.schema.ts';

/** bigint ids and counts arrive from pg as strings (they can exceed 2^53). */
type BigIntString = string;
/** numeric money arrives as a string: exact, never a float. */
type Money = string;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface CustomersTable {
  id: GeneratedAlways<BigIntString>;
  name: string;
  email: string;
  telephone: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ProductsTable {
  id: GeneratedAlways<BigIntString>;
  name: string;
  price: ColumnType<Money, Money | number, Money | number>;
}

export interface SalesAgentsTable {
  id: GeneratedAlways<BigIntString>;
  name: string;
  /** The code of the agent's referral links (unique, case-insensitive); added by the order workflow. */
  referral_code: string | null;
}

export interface SalesTable {
  id: GeneratedAlways<BigIntString>;
  customer_id: ColumnType<BigIntString, BigIntString | number, BigIntString | number>;
  product_id: ColumnType<BigIntString, BigIntString | number, BigIntString | number>;
  sales_agent_id: ColumnType<BigIntString, BigIntString | number, BigIntString | number>;
  price: ColumnType<Money, Money | number, Money | number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type StatsDimension = 'agent' | 'product' | 'customer';

/** The view every stats reader uses (folded rollups plus pending deltas). */
export interface DailySalesStatsView {
  day: ColumnType<string, never, never>;
  dimension: ColumnType<StatsDimension, never, never>;
  entity_id: ColumnType<BigIntString, never, never>;
  sales_count: ColumnType<BigIntString, never, never>;
  total_price: ColumnType<Money, never, never>;
}

export interface StatsSettingsTable {
  singleton: GeneratedAlways<boolean>;
  time_zone: string;
}

/** Each feature declares its own tables (src/<feature>/<feature>.schema.ts); this joins them. */
export interface Database extends OrderTables, EmailTables, AlertTables, SupplierTables {
  customers: CustomersTable;
  products: ProductsTable;
  sales_agents: SalesAgentsTable;
  sales: SalesTable;
  daily_sales_stats: DailySalesStatsView;
  stats_settings: StatsSettingsTable;
}

export type Customer = Selectable<CustomersTable>;
export type NewCustomer = Insertable<CustomersTable>;
export type Product = Selectable<ProductsTable>;
export type NewProduct = Insertable<ProductsTable>;
export type SalesAgent = Selectable<SalesAgentsTable>;
export type NewSalesAgent = Insertable<SalesAgentsTable>;
export type Sale = Selectable<SalesTable>;
export type NewSale = Insertable<SalesTable>;
