import pg from 'pg';
import t from 'tap';
import { migrate } from '../../src/db/migrate.ts';
import { emptyDatabase, testLog } from '../helpers/database.ts';

t.test('the period-rankings migration backfills a database that already has sales, folded and pending', async (t) => {
  const { url } = await emptyDatabase(t);
  await migrate(url, 'up', testLog);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  await client.query(`insert into customers (name, email) select 'C' || i, 'c' || i || '@example.com' from generate_series(1, 3) as i`);
  await client.query(`insert into products (name, price) values ('P', 2)`);
  await client.query(`insert into sales_agents (name) values ('S')`);
  const addSales = (days: number) => client.query(`
    insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
    select c.id, p.id, s.id, 1.25 * c.id, now() - (i || ' days')::interval
    from customers c, products p, sales_agents s, generate_series(0, $1) as i`, [days]);
  await addSales(400);
  await client.query('select fold_daily_sales_stats()');

  const [undone] = await migrate(url, 'down', testLog, 1);
  t.match(undone, /_period-sales-stats$/, 'the newest migration is the period rankings');
  await addSales(40); // pending deltas, written while the period rows do not exist
  await migrate(url, 'up', testLog);
  const { rows: [counts] } = await client.query(`select
      (select count(*)::int from period_sales_stats_folded where period = 'year') as years,
      (select count(*)::int from period_sales_stats_folded where period = 'window') as window`);
  t.ok(counts.years >= 5 * 2 && counts.window === 5, `backfilled: ${JSON.stringify(counts)}`);
  t.equal((await client.query('select count(*)::int as n from verify_daily_sales_stats()')).rows[0].n, 0, 'exact before the fold');
  await client.query('select fold_daily_sales_stats()');
  t.equal((await client.query('select count(*)::int as n from verify_daily_sales_stats()')).rows[0].n, 0, 'and after it');
});
