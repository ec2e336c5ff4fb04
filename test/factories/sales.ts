import type pg from 'pg';

/** Ids of the dimension rows a test's sales point at. */
export interface Catalogue {
  customers: string[];
  products: string[];
  agents: string[];
}

/** n customers, products (priced 1.00, 2.00, …) and agents. */
export async function makeCatalogue(pool: pg.Pool, n = 3): Promise<Catalogue> {
  const customers = await pool.query<{ id: string }>(
    `insert into customers (name, email) select 'Customer ' || i, 'customer' || i || '@example.com'
     from generate_series(1, $1) as i returning id`, [n]);
  const products = await pool.query<{ id: string }>(
    `insert into products (name, price) select 'Product ' || i, i from generate_series(1, $1) as i returning id`, [n]);
  const agents = await pool.query<{ id: string }>(
    `insert into sales_agents (name) select 'Agent ' || i from generate_series(1, $1) as i returning id`, [n]);
  return {
    customers: customers.rows.map((row) => row.id),
    products: products.rows.map((row) => row.id),
    agents: agents.rows.map((row) => row.id),
  };
}

export interface SaleValues {
  customer_id: string;
  product_id: string;
  sales_agent_id: string;
  price: string;
  created_at: string;
}

/** A sale on the catalogue's first entities, at noon UTC on 2026-03-10, unless overridden. */
export function makeSale(catalogue: Catalogue, overrides: Partial<SaleValues> = {}): SaleValues {
  return {
    customer_id: catalogue.customers[0]!,
    product_id: catalogue.products[0]!,
    sales_agent_id: catalogue.agents[0]!,
    price: '10.00',
    created_at: '2026-03-10T12:00:00Z',
    ...overrides,
  };
}

/** One multi-row INSERT statement; returns the new ids. */
export async function insertSales(db: pg.Pool | pg.PoolClient, sales: SaleValues[]): Promise<string[]> {
  const values: unknown[] = [];
  const tuples = sales.map((sale, i) => {
    values.push(sale.customer_id, sale.product_id, sale.sales_agent_id, sale.price, sale.created_at);
    const p = i * 5;
    return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5})`;
  });
  const { rows } = await db.query<{ id: string }>(
    `insert into sales (customer_id, product_id, sales_agent_id, price, created_at) values ${tuples.join(', ')} returning id`,
    values,
  );
  return rows.map((row) => row.id);
}
