import t from 'tap';
import type pg from 'pg';
import { seed, type SeedOptions } from '../../src/seed/seeder.ts';
import { freshDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/run-command.ts';
import { verifyDifferences } from '../helpers/rollups.ts';

const options: SeedOptions = { sales: 20_000, agents: 10, products: 50, customers: 2_000, days: 30, seed: 7, endDay: '2026-03-31', append: false };

async function fingerprint(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query(`select
    (select md5(string_agg(concat_ws(',', customer_id, product_id, sales_agent_id, price, created_at), ';' order by id)) from sales) ||
    (select md5(string_agg(concat_ws(',', name, email, telephone), ';' order by id)) from customers) ||
    (select md5(string_agg(concat_ws(',', name, price), ';' order by id)) from products) as f`);
  return rows[0].f;
}

t.test('the same seed gives the same data; another seed gives other data', async (t) => {
  const one = await freshDatabase(t);
  const two = await freshDatabase(t);
  const three = await freshDatabase(t);
  await seed(one.pool, options, () => {});
  await seed(two.pool, options, () => {});
  await seed(three.pool, { ...options, seed: 8 }, () => {});
  t.equal(await fingerprint(one.pool), await fingerprint(two.pool));
  t.not(await fingerprint(one.pool), await fingerprint(three.pool));
});

t.test('the data has the shape of a real shop', async (t) => {
  const { pool } = await freshDatabase(t);
  await seed(pool, options, () => {});
  const { rows: [counts] } = await pool.query(`select (select count(*) from sales)::int as sales, (select count(*) from customers)::int as customers,
    (select count(*) from products)::int as products, (select count(*) from sales_agents)::int as agents`);
  t.same(counts, { sales: 20_000, customers: 2_000, products: 50, agents: 10 });

  const { rows: [shape] } = await pool.query(`select
    (select max(n) from (select count(*)::float8 as n from sales group by sales_agent_id) x) / 2000.0 as top_agent_vs_uniform,
    (select count(*) from sales s join products p on p.id = s.product_id where s.price <> p.price)::int as off_list_prices,
    (select min(created_at) >= '2026-03-02' and max(created_at) < '2026-04-01' from sales) as within_days,
    (select count(distinct (created_at at time zone 'UTC')::date) from sales)::int as days_with_sales,
    (select count(*) from (select customer_id from sales group by customer_id having count(*) > 100) x)::int as busy_customers`);
  t.ok(shape.top_agent_vs_uniform > 2, `the busiest agent sells ${shape.top_agent_vs_uniform.toFixed(1)}x an even share`);
  t.equal(shape.off_list_prices, 0, 'every price comes from the product list');
  t.equal(shape.within_days, true, 'timestamps fall in the 30 days up to the end day');
  t.equal(shape.days_with_sales, 30);
  t.ok(shape.busy_customers > 0, 'some customers buy far more than the average of 10');
  t.equal(await verifyDifferences(pool), 0, 'the rollups are exact after the COPY');
  const { rows: partitions } = await pool.query<{ name: string; n: number }>(
    `select tableoid::regclass::text as name, count(*)::int as n from sales group by 1 order by 1`);
  t.same(partitions.map((row) => row.name), ['sales_2026_03'], 'the seeder created its month\'s partition first: nothing in the default partition');
});

t.test('the seed CLI refuses a database with data unless --append, and checks its flags', async (t) => {
  const { url, pool } = await freshDatabase(t);
  const env = { DATABASE_URL: url };
  const args = ['--sales', '500', '--agents', '3', '--products', '5', '--customers', '50', '--days', '7', '--end', '2026-03-31'];
  let result = await runCli('seed', args, env);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /seeded 500 sales/);
  t.match(result.stderr, /sales: 500 \/ 500 \(100%\)/, 'progress is shown');

  result = await runCli('seed', args, env);
  t.equal(result.code, 1);
  t.match(result.stderr, /already has data \(500 sales.*pass --append/);

  result = await runCli('seed', [...args, '--append'], env);
  t.equal(result.code, 0, result.stderr);
  const { rows } = await pool.query('select count(*)::int as n, count(distinct email)::int as emails from sales, lateral (select email from customers where id = sales.customer_id) c');
  t.equal(rows[0].n, 1000);
  t.equal(await verifyDifferences(pool), 0);

  for (const [bad, message] of [[['--sales', 'many'], /--sales takes a whole number/], [['--end', '2026-13-01'], /--end must be a date/], [['--agents', '0'], /--agents takes a whole number of at least 1/]] as const) {
    result = await runCli('seed', [...bad], env);
    t.equal(result.code, 2);
    t.match(result.stderr, message);
  }
  t.match((await runCli('seed', ['--help'], {})).stdout, /Usage: npm run seed/);
});
