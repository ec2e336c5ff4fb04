import type { StatsDimension } from '../db/schema.ts';

/** One kind of entity the stats are kept for, and how the pages name it. */
export interface DimensionInfo {
  /** URL segment: /stats/<slug>. */
  slug: 'agents' | 'products' | 'customers';
  /** The value of daily_sales_stats.dimension. */
  dimension: StatsDimension;
  /** Where the names live. A constant from this list, never user input: it is spliced into SQL. */
  table: 'sales_agents' | 'products' | 'customers';
  title: string;
  singular: string;
}

export const dimensions: readonly DimensionInfo[] = Object.freeze([
  { slug: 'agents', dimension: 'agent', table: 'sales_agents', title: 'Sales agents', singular: 'sales agent' },
  { slug: 'products', dimension: 'product', table: 'products', title: 'Products', singular: 'product' },
  { slug: 'customers', dimension: 'customer', table: 'customers', title: 'Customers', singular: 'customer' },
] as const);
