import t from 'tap';
import pg from 'pg';
import { migrate, migrationStatus } from '../../src/db/migrate.ts';
import { emptyDatabase, testLog } from '../helpers/database.ts';

/** Every object of ours in the public schema, as text that changes when any definition does. */
async function catalogue(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ object: string }>(`
      select 'function ' || p.oid::regprocedure || ': ' || md5(pg_get_functiondef(p.oid)) as object
        from pg_proc p where p.pronamespace = 'public'::regnamespace
      union all
      select 'trigger ' || tgname || ' on ' || tgrelid::regclass || ': ' || md5(pg_get_triggerdef(oid))
        from pg_trigger where not tgisinternal
      union all
      select 'relation ' || c.relname || ' (' || c.relkind::text || ')'
        from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'i', 'S')
      union all
      select 'view ' || viewname || ': ' || md5(definition) from pg_views where schemaname = 'public'
      order by 1`);
    return rows.map((row) => row.object);
  } finally {
    await client.end();
  }
}

t.test('migrations go all the way down and up again, leaving nothing behind', async (t) => {
  const { url } = await emptyDatabase(t);
  const empty = await catalogue(url);
  const up = await migrate(url, 'up', testLog);
  t.ok(up.length >= 3, `applied ${up.length} migrations`);
  const migrated = await catalogue(url);
  t.ok(migrated.some((line) => line.startsWith('view daily_sales_stats')), 'sql/ objects are in place');
  t.ok(migrated.some((line) => line.startsWith('trigger _500_record_stats_on_insert on sales')));

  const down = await migrate(url, 'down', testLog, up.length);
  t.same(down, [...up].reverse(), 'every migration undone, newest first');
  t.same((await catalogue(url)).filter((line) => !line.startsWith('relation pgmigrations')), empty.filter((line) => !line.startsWith('relation pgmigrations')),
    'down removes every table, function, trigger and view that up created');

  await migrate(url, 'up', testLog);
  t.same(await catalogue(url), migrated, 'up again gives the same schema');

  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  t.same(await migrationStatus(client), { pending: [], replaceableSqlCurrent: true });
  await client.query(`insert into customers (name, email) values ('A', 'a@example.com')`);
  await client.query(`insert into products (name, price) values ('P', 2)`);
  await client.query(`insert into sales_agents (name) values ('S')`);
  await client.query(`insert into sales (customer_id, product_id, sales_agent_id, price) select c.id, p.id, s.id, 2 from customers c, products p, sales_agents s`);
  const { rows } = await client.query('select count(*)::int as n from verify_daily_sales_stats()');
  t.equal(rows[0].n, 0, 'the rollups work after down and up');
});

t.test('undoing the migrations down to the rollups keeps the sales tables, and up restores the rollups', async (t) => {
  const { url } = await emptyDatabase(t);
  const applied = await migrate(url, 'up', testLog);
  const rollups = applied.findIndex((name) => name.endsWith('_daily-sales-stats'));
  const undone = await migrate(url, 'down', testLog, applied.length - rollups);
  t.match(undone.at(-1), /_daily-sales-stats$/, 'the rollup migration was the last one undone');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  const { rows } = await client.query(`select to_regclass('sales') is not null as sales, to_regclass('daily_sales_stats') is null as no_view,
    not exists (select from pg_proc where proname = 'sale_day') as no_functions`);
  t.same(rows[0], { sales: true, no_view: true, no_functions: true });
  t.match(await migrationStatus(client), { pending: [...undone].reverse() });
  await migrate(url, 'up', testLog);
  t.same(await migrationStatus(client), { pending: [], replaceableSqlCurrent: true });
});

t.test('applying sql/ again changes nothing: migrations and sql/ have not drifted', async (t) => {
  const { url } = await emptyDatabase(t);
  await migrate(url, 'up', testLog);
  const before = await catalogue(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  await client.query('delete from replaceable_sql_state'); // forces the next up to re-apply sql/
  await migrate(url, 'up', testLog);
  t.same(await catalogue(url), before);
});
