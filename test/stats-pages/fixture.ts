import type pg from 'pg';

/** Names that must render as text: markup, quotes, an ampersand, emoji, a formula. */
export const trickyAgent = '<script>alert("x")</script> & Sons \'Ltd\' 🚚';
export const formulaCustomer = '=HYPERLINK("http://evil.example","click"), "Smith"';

export interface Fixture {
  agents: string[];
  products: string[];
  customers: string[];
}

/**
 * Three agents, three products, four customers and 40 sales over 2026-03-01..10,
 * prices with cents, some days empty. Deterministic.
 */
export async function loadFixture(pool: pg.Pool): Promise<Fixture> {
  const agents = (await pool.query<{ id: string }>(
    `insert into sales_agents (name) values ('Alice Agent'), ($1), ('Zed 100% Agent') returning id`, [trickyAgent])).rows.map((r) => r.id);
  const products = (await pool.query<{ id: string }>(
    `insert into products (name, price) values ('Widget', 9.99), ('Gadget', 1234.50), ('Thing', 0.01) returning id`)).rows.map((r) => r.id);
  const customers = (await pool.query<{ id: string }>(
    `insert into customers (name, email) values ('Carol', 'carol@example.com'), ('Dave', 'dave@example.com'),
       ($1, 'eve@example.com'), ('Frank Smith', 'frank@example.com') returning id`, [formulaCustomer])).rows.map((r) => r.id);
  const values: string[] = [];
  const params: unknown[] = [];
  const prices = ['9.99', '1234.50', '0.01', '100.00', '55.55'];
  for (let i = 0; i < 40; i++) {
    const day = 1 + ((i * 7) % 10);
    if (day === 4) continue; // a day without sales
    params.push(customers[i % 4], products[i % 3], agents[(i * 5) % 3], prices[i % 5], `2026-03-${String(day).padStart(2, '0')}T${String(8 + (i % 10)).padStart(2, '0')}:30:00Z`);
    const p = params.length - 5;
    values.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5})`);
  }
  await pool.query(`insert into sales (customer_id, product_id, sales_agent_id, price, created_at) values ${values.join(', ')}`, params);
  return { agents, products, customers };
}

export interface ExpectedRow {
  day: string;
  id: string;
  name: string;
  sales_count: number;
  total_price: string;
}

const columns = { agents: ['sales_agent_id', 'sales_agents'], products: ['product_id', 'products'], customers: ['customer_id', 'customers'] } as const;

/** The test's own GROUP BY over sales (UTC days), independent of the code under test. */
export async function expectedRows(pool: pg.Pool, slug: keyof typeof columns, from: string, to: string): Promise<ExpectedRow[]> {
  const [column, table] = columns[slug];
  const { rows } = await pool.query<ExpectedRow>(`
    select (s.created_at at time zone 'UTC')::date::text as day, s.${column}::text as id, n.name,
           count(*)::int as sales_count, to_char(sum(s.price), 'FM999999999990.00') as total_price
    from sales s join ${table} n on n.id = s.${column}
    where (s.created_at at time zone 'UTC')::date between $1 and $2
    group by 1, 2, 3, s.${column} order by 1 desc, s.${column} desc`, [from, to]);
  return rows;
}
