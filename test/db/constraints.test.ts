import type { Test } from 'tap';
import t from 'tap';
import { describeDatabaseError } from '../../src/db/database-errors.ts';
import { insertSales, makeCatalogue, makeSale } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { actualRollups } from '../helpers/rollups.ts';

/** Asserts the statement is refused by the named constraint, with the sentence we show people. */
async function refused(t: Test, promise: Promise<unknown>, constraint: string, sentence: RegExp) {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  t.ok(error, `refused by ${constraint}`);
  t.equal((error as { constraint?: string })?.constraint, constraint, `names ${constraint}`);
  t.match(describeDatabaseError(error), sentence, 'explained in a sentence');
}

t.test('customers: a name, a valid e-mail, unique whatever its case', async (t) => {
  const { pool } = await freshDatabase(t);
  await pool.query(`insert into customers (name, email) values ('Ann', 'Ann@Example.com')`);
  await refused(t, pool.query(`insert into customers (name, email) values ('Ann B', 'ann@example.COM')`), 'customers_email_unique', /already exists/);
  await refused(t, pool.query(`insert into customers (name, email) values ('Bob', 'not-an-email')`), 'customers_email_valid', /not valid/);
  await refused(t, pool.query(`insert into customers (name, email) values ('   ', 'bob@example.com')`), 'customers_name_not_blank', /needs a name/);
  await t.rejects(pool.query(`insert into customers (name) values ('Bob')`), { code: '23502', column: 'email' }, 'email is required');
  await t.rejects(pool.query(`insert into customers (id, name, email) values (99, 'Eve', 'eve@example.com')`), { code: '428C9' }, 'ids are the database\'s to give');
});

t.test('products and agents: a name and a non-negative price with two decimals', async (t) => {
  const { pool } = await freshDatabase(t);
  await refused(t, pool.query(`insert into products (name, price) values ('Hat', -0.01)`), 'products_price_not_negative', /cannot be negative/);
  await refused(t, pool.query(`insert into products (name, price) values ('', 1)`), 'products_name_not_blank', /needs a name/);
  await refused(t, pool.query(`insert into sales_agents (name) values ('')`), 'sales_agents_name_not_blank', /needs a name/);
  await t.rejects(pool.query(`insert into products (name, price) values ('Yacht', 10000000000)`), { code: '22003' }, 'numeric(12,2) overflow is refused');
  const { rows } = await pool.query(`insert into products (name, price) values ('Pin', 1.005) returning price`);
  t.equal(rows[0].price, '1.01', 'money is rounded to cents by numeric(12,2)');
});

t.test('sales: existing customer, product and agent, and a non-negative price; the rollups lose nothing', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c)]);
  const before = await actualRollups(pool);
  await refused(t, insertSales(pool, [makeSale(c, { customer_id: '999999' })]), 'sales_customer_id_fkey', /customer does not exist/);
  await refused(t, insertSales(pool, [makeSale(c, { product_id: '999999' })]), 'sales_product_id_fkey', /product does not exist/);
  await refused(t, insertSales(pool, [makeSale(c, { sales_agent_id: '999999' })]), 'sales_sales_agent_id_fkey', /sales agent does not exist/);
  await refused(t, insertSales(pool, [makeSale(c), makeSale(c, { price: '-1.00' })]), 'sales_price_not_negative', /cannot be negative/);
  t.same(await actualRollups(pool), before, 'a refused statement leaves the rollups as they were, even for its good rows');
  await refused(t, pool.query('delete from customers where id = $1', [c.customers[0]]), 'sales_customer_id_fkey', /still has sales/);
});

t.test('the rollup tables refuse an unknown dimension', async (t) => {
  const { pool } = await freshDatabase(t);
  await t.rejects(
    pool.query(`insert into daily_sales_stats_folded values ('region', '2026-01-01', 1, 1, 1)`),
    { message: /daily_sales_stats_folded_dimension_known/ },
  );
});
