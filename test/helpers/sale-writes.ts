import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { SaleValues } from '../factories/sales.ts';

/**
 * The writes of sales that the randomized differential tests draw from
 * (rollups, partitions, rankings), one definition for all of them, and the
 * loop that runs their drawn batches in committed or rolled-back transactions.
 */

/** COPY of sales into a table (`sales`, or one partition of it): one statement. */
export async function copySales(client: pg.PoolClient, table: string, sales: SaleValues[]): Promise<void> {
  const lines = sales.map((s) => `${s.customer_id},${s.product_id},${s.sales_agent_id},${s.price},${s.created_at}\n`);
  await pipeline(Readable.from(lines), client.query(copyFrom(`copy ${table} (customer_id, product_id, sales_agent_id, price, created_at) from stdin with (format csv)`)));
}

/** The id of the existing sale at position `target` (by id), else the first one, else none. */
export async function existingSale(client: pg.PoolClient, target: number): Promise<string | undefined> {
  const { rows } = await client.query<{ id: string }>('select id from sales order by id offset $1 limit 1', [target]);
  if (rows[0]) return rows[0].id;
  const { rows: any } = await client.query<{ id: string }>('select id from sales order by id limit 1');
  return any[0]?.id;
}

export type SaleColumnChange = 'price' | 'sales_agent_id' | 'product_id' | 'customer_id' | 'created_at' | 'all' | 'nothing';

/** One sale's UPDATE of one column to the value in `s` (`all`: every column; `nothing`: only updated_at). */
export async function updateSale(client: pg.PoolClient, id: string, column: SaleColumnChange, s: SaleValues): Promise<void> {
  const set = {
    price: ['price = $2', [s.price]],
    sales_agent_id: ['sales_agent_id = $2', [s.sales_agent_id]],
    product_id: ['product_id = $2', [s.product_id]],
    customer_id: ['customer_id = $2', [s.customer_id]],
    created_at: ['created_at = $2', [s.created_at]],
    all: ['price = $2, sales_agent_id = $3, product_id = $4, customer_id = $5, created_at = $6', [s.price, s.sales_agent_id, s.product_id, s.customer_id, s.created_at]],
    nothing: ['updated_at = now()', []],
  } as const;
  const [clause, values] = set[column];
  await client.query(`update sales set ${clause} where id = $1`, [id, ...values]);
}

/** Runs each batch's operations in a transaction of its own, ended by its `ending` (commit or rollback). */
export async function runBatches<Op>(pool: pg.Pool, batches: { ops: Op[]; ending: string }[], apply: (client: pg.PoolClient, op: Op) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    for (const batch of batches) {
      await client.query('begin');
      for (const op of batch.ops) await apply(client, op);
      await client.query(batch.ending);
    }
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}
