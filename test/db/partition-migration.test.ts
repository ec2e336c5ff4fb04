import pg from 'pg';
import t from 'tap';
import type { Test } from 'tap';
import { readdirSync } from 'node:fs';
import { migrate, migrationStatus, MIGRATIONS_DIR } from '../../src/db/migrate.ts';
import { insertSales, makeCatalogue, makeSale } from '../factories/sales.ts';
import { emptyDatabase, testLog } from '../helpers/database.ts';
import { actualRollups, expectedRollups, fold, pendingDeltas, verifyDifferences } from '../helpers/rollups.ts';

const MIGRATION = /_partitioned-sales$/;
/** How many migrations a down run undoes to undo the partitioning: it and the ones after it (the period rankings, 1764059000000). */
const migrationNames = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.sql')).sort();
const DOWN_TO_PARTITIONING = migrationNames.length - migrationNames.findIndex((name) => MIGRATION.test(name.replace(/\.sql$/, '')));

/**
 * A database as it was just before the partitioning migration: every
 * migration up, then this one undone (which turns sales back into one plain
 * table). sql/ of that time gave the plain table its rollup triggers; the
 * undo dropped them with the partitioned table, so they are put back here
 * exactly as sql/040 and sql/010 define them for a plain table.
 */
async function databaseBeforePartitioning(t: Test) {
  const { url } = await emptyDatabase(t);
  const applied = await migrate(url, 'up', testLog);
  t.match(applied.at(-DOWN_TO_PARTITIONING), MIGRATION, 'the partitioning migration, and the ones after it');
  const undone = await migrate(url, 'down', testLog, DOWN_TO_PARTITIONING);
  t.match(undone.at(-1), MIGRATION);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  t.teardown(() => pool.end());
  await pool.query(`
    create trigger _100_set_updated_at before update on sales for each row execute function tg__set_updated_at();
    create trigger _500_record_stats_on_insert after insert on sales referencing new table as new_sales
      for each statement execute function tg_sales__record_stats();
    create trigger _500_record_stats_on_update after update on sales referencing old table as old_sales new table as new_sales
      for each statement execute function tg_sales__record_stats();
    create trigger _500_record_stats_on_delete after delete on sales referencing old table as old_sales
      for each statement execute function tg_sales__record_stats();`);
  return { url, pool };
}

async function relkind(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ relkind: string }>(`select relkind::text from pg_class where oid = 'sales'::regclass`);
  return rows[0]!.relkind;
}

async function salesRows(pool: pg.Pool) {
  const { rows } = await pool.query('select id::text, customer_id::text, product_id::text, sales_agent_id::text, price::text, created_at, updated_at from sales order by id');
  return rows;
}

t.test('the migration partitions a sales table with rows in it by month, and the rollups stay exactly what they were', async (t) => {
  const { url, pool } = await databaseBeforePartitioning(t);
  t.equal(await relkind(pool), 'r', 'a plain table before');
  const c = await makeCatalogue(pool);
  const days = ['2025-11-30T23:30:00Z', '2025-12-01T00:00:00Z', '2026-01-15T12:00:00Z', '2026-02-28T23:59:59Z', '2026-04-01T00:00:00Z'];
  await insertSales(pool, days.map((created_at, i) => makeSale(c, { created_at, price: `${i + 1}.25`, sales_agent_id: c.agents[i % 3]! })));
  await fold(pool);
  await insertSales(pool, days.map((created_at) => makeSale(c, { created_at, customer_id: c.customers[1]! })));
  await pool.query(`delete from sales where id = (select min(id) from sales)`);
  const [lastId] = await insertSales(pool, [makeSale(c)]);
  await pool.query('delete from sales where id = $1', [lastId]); // the next id is not max(id) + 1

  const rollups = await actualRollups(pool);
  t.same(rollups, await expectedRollups(pool), 'exact before');
  const pending = await pendingDeltas(pool);
  const rows = await salesRows(pool);

  await migrate(url, 'up', testLog);
  t.equal(await relkind(pool), 'p', 'partitioned after');
  const { rows: partitions } = await pool.query<{ name: string; n: number }>(
    `select c.relname as name, (select count(*)::int from sales as s where s.tableoid = c.oid) as n
     from pg_inherits as i join pg_class as c on c.oid = i.inhrelid where i.inhparent = 'sales'::regclass order by 1`);
  t.same(partitions, [
    { name: 'sales_2025_11', n: 1 }, { name: 'sales_2025_12', n: 2 }, { name: 'sales_2026_01', n: 2 },
    { name: 'sales_2026_02', n: 2 }, { name: 'sales_2026_03', n: 0 }, { name: 'sales_2026_04', n: 2 },
    { name: 'sales_default', n: 0 },
  ], 'one partition per UTC month from the first sale to the last (the first sale was deleted), and the default partition');
  t.same(await salesRows(pool), rows, 'every row, unchanged');
  t.same(await actualRollups(pool), rollups, 'the rollups are exactly what they were');
  t.equal(await pendingDeltas(pool), pending, 'the move added no delta');
  t.equal(await verifyDifferences(pool), 0);
  t.same(await migrationStatus(pool), { pending: [], replaceableSqlCurrent: true });

  const [next] = await insertSales(pool, [makeSale(c, { created_at: '2026-01-20T00:00:00Z' })]);
  t.equal(BigInt(next!), BigInt(lastId!) + 1n, 'ids continue from the old sequence');
  await t.rejects(insertSales(pool, [makeSale(c, { price: '-1.00' })]), { code: '23514', constraint: 'sales_price_not_negative' });
  await t.rejects(insertSales(pool, [makeSale(c, { sales_agent_id: '999999' })]), { code: '23503', constraint: 'sales_sales_agent_id_fkey' });
  const { rows: indexes } = await pool.query<{ name: string }>(`select indexrelid::regclass::text as name from pg_index where indrelid = 'sales'::regclass order by 1`);
  t.same(indexes.map((row) => row.name), ['sales_created_at_idx', 'sales_customer_id_idx', 'sales_pkey', 'sales_product_id_idx', 'sales_sales_agent_id_idx']);
  await pool.query(`update sales set created_at = '2026-03-03T00:00:00Z' where id = $1`, [next]);
  t.same(await actualRollups(pool), await expectedRollups(pool), 'the triggers work on the partitioned table');

  // And back: one plain table again, the same rows and rollups.
  const [lastBeforeDown] = await insertSales(pool, [makeSale(c, { created_at: '2026-02-02T00:00:00Z' })]);
  const beforeDown = await actualRollups(pool);
  const rowsBeforeDown = await salesRows(pool);
  await migrate(url, 'down', testLog, DOWN_TO_PARTITIONING);
  t.equal(await relkind(pool), 'r', 'a plain table after the down migration');
  t.same(await salesRows(pool), rowsBeforeDown);
  t.same(await actualRollups(pool), beforeDown, 'the down migration does not touch the rollups either');
  const { rows: [key] } = await pool.query<{ def: string }>(`select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'sales_pkey'`);
  t.equal(key!.def, 'PRIMARY KEY (id)');
  await migrate(url, 'up', testLog);
  const [afterRoundTrip] = await insertSales(pool, [makeSale(c)]);
  t.equal(BigInt(afterRoundTrip!), BigInt(lastBeforeDown!) + 1n, 'ids still continue after down and up');
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

t.test('the down migration puts archived months back, and refuses when a month was dropped', async (t) => {
  const { url } = await emptyDatabase(t);
  await migrate(url, 'up', testLog);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  t.teardown(() => pool.end());
  const c = await makeCatalogue(pool);
  await pool.query(`select create_sales_partitions('2026-01-01', '2026-03-01')`);
  await insertSales(pool, ['2026-01-05', '2026-02-05', '2026-03-05'].map((day) => makeSale(c, { created_at: `${day}T10:00:00Z` })));
  const rollups = await actualRollups(pool);
  await pool.query(`select * from archive_sales_before('2026-02-01')`);
  await migrate(url, 'down', testLog, DOWN_TO_PARTITIONING);
  const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from sales');
  t.equal(rows[0]!.n, 3, 'the archived January is back in the plain table');
  t.same(await actualRollups(pool), rollups);
  const { rows: [schema] } = await pool.query(`select to_regnamespace('sales_archive') is null as gone`);
  t.equal(schema.gone, true);

  await migrate(url, 'up', testLog);
  t.equal(await verifyDifferences(pool), 0);
  await pool.query(`select * from archive_sales_before('2026-03-01', true)`);
  await t.rejects(migrate(url, 'down', testLog, DOWN_TO_PARTITIONING), { message: /archived months were dropped/ });
  t.equal(await relkind(pool), 'p', 'nothing undone');
});
