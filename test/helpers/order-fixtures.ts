import type pg from 'pg';

/** Products of a small shop, priced 12.50, 7.99 and 100.00. */
export async function makeProducts(pool: pg.Pool): Promise<{ mug: string; sticker: string; tent: string }> {
  const { rows } = await pool.query<{ id: string }>(
    `insert into products (name, price) values ('Mug', 12.50), ('Sticker', 7.99), ('Tent', 100.00) returning id`);
  return { mug: rows[0]!.id, sticker: rows[1]!.id, tent: rows[2]!.id };
}

/** An order written straight into the tables (no checkout, no gateway), pending payment. */
export async function insertOrder(pool: pg.Pool, options: { productId: string; quantity?: number; paymentState?: string } ): Promise<string> {
  const quantity = options.quantity ?? 1;
  const { rows: [customer] } = await pool.query<{ id: string }>(
    `insert into customers (name, email) values ('Ann Buyer', 'ann' || floor(random() * 1e9)::text || '@example.com') returning id`);
  const { rows: [agent] } = await pool.query<{ id: string }>(`select order_default_sales_agent('Web shop') as id`);
  const { rows: [order] } = await pool.query<{ id: string }>(
    `insert into orders (number, customer_id, sales_agent_id, currency, total, payment_state, customer_name, customer_email,
                         address_line1, postal_code, city, country, expires_at)
     select 'TT-' || upper(substr(md5(random()::text), 1, 4)) || '-' || upper(substr(md5(random()::text), 1, 4)),
            $1, $2, 'eur', p.price * $4, $5, 'Ann Buyer', 'ann@example.com', '1 High Street', 'AB1 2CD', 'Leeds', 'GB',
            now() + interval '1 hour'
     from products p where p.id = $3
     returning id`, [customer!.id, agent!.id, options.productId, quantity, options.paymentState ?? 'pending_payment']);
  await pool.query(
    `insert into order_items (order_id, product_id, quantity, unit_price, name)
     select $1, id, $3, price, name from products where id = $2`, [order!.id, options.productId, quantity]);
  return order!.id;
}

export async function orderRow(pool: pg.Pool, orderId: string): Promise<Record<string, unknown>> {
  const { rows } = await pool.query(`select * from orders where id = $1`, [orderId]);
  return rows[0]!;
}

export async function count(pool: pg.Pool, query: string, values: unknown[] = []): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`select count(*) as n from (${query}) as x`, values);
  return Number(rows[0]!.n);
}
