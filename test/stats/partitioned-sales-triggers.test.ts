import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import t from 'tap';
import type { Test } from 'tap';
import { insertSales, makeCatalogue, makeSale, type Catalogue } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { actualRollups, expectedRollups, fold, pendingDeltas, verifyDifferences } from '../helpers/rollups.ts';

/**
 * Every path a write can take into the partitioned sales, each on its own,
 * on whichever Postgres the run uses (PG 15 and PG 18 in CI). January and
 * March 2026 have partitions; February has none, so its sales land in the
 * default partition.
 */

async function partitionedDatabase(t: Test) {
  const database = await freshDatabase(t);
  await database.pool.query(`select create_sales_partitions('2026-01-01', '2026-01-01')`);
  await database.pool.query(`select create_sales_partitions('2026-03-01', '2026-03-01')`);
  const c = await makeCatalogue(database.pool);
  return { ...database, c };
}

async function exact(t: Test, pool: pg.Pool, name: string) {
  t.same(await actualRollups(pool), await expectedRollups(pool), `${name}: the rollups equal a GROUP BY over sales`);
  t.equal(await verifyDifferences(pool), 0, `${name}: verify finds nothing`);
}

async function whereRows(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ partition: string; n: number }>(
    'select tableoid::regclass::text as partition, count(*)::int as n from sales group by 1 order by 1');
  return Object.fromEntries(rows.map((row) => [row.partition, row.n]));
}

function spread(c: Catalogue) {
  return [
    makeSale(c, { created_at: '2026-01-15T10:00:00Z', price: '1.00' }),
    makeSale(c, { created_at: '2026-02-15T10:00:00Z', price: '2.00', sales_agent_id: c.agents[1]! }),
    makeSale(c, { created_at: '2026-03-15T10:00:00Z', price: '4.00', customer_id: c.customers[2]! }),
  ];
}

async function copyInto(pool: pg.Pool, table: string, lines: string[]) {
  const client = await pool.connect();
  try {
    await pipeline(Readable.from(lines), client.query(copyFrom(`copy ${table} (customer_id, product_id, sales_agent_id, price, created_at) from stdin with (format csv)`)));
  } finally {
    client.release();
  }
}

t.test('an insert through sales routes each row to its month (or the default partition) and counts every sale once', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await insertSales(pool, spread(c));
  t.same(await whereRows(pool), { sales_2026_01: 1, sales_2026_03: 1, sales_default: 1 });
  await exact(t, pool, 'routed insert');
  t.equal(await pendingDeltas(pool), 9, 'one delta per day and dimension: the statement was counted once, by the parent\'s trigger');
});

t.test('COPY into sales counts every sale once, whichever partition it lands in', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  const lines = Array.from({ length: 90 }, (_, i) =>
    `${c.customers[i % 3]},${c.products[i % 2]},${c.agents[i % 3]},${(i % 7) + 0.25},2026-0${1 + (i % 3)}-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z\n`);
  await copyInto(pool, 'sales', lines);
  t.same(await whereRows(pool), { sales_2026_01: 30, sales_2026_03: 30, sales_default: 30 });
  await exact(t, pool, 'COPY into the parent');
});

t.test('COPY straight into a partition counts its sales once, by the partition\'s own trigger', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await copyInto(pool, 'sales_2026_03', [`${c.customers[0]},${c.products[0]},${c.agents[0]},3.50,2026-03-02T10:00:00Z\n`,
    `${c.customers[1]},${c.products[0]},${c.agents[0]},1.50,2026-03-03T10:00:00Z\n`]);
  t.same(await whereRows(pool), { sales_2026_03: 2 });
  await exact(t, pool, 'COPY into a partition');
});

t.test('an INSERT straight into a partition counts once and takes its id from the one sequence', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  const [first] = await insertSales(pool, [makeSale(c, { created_at: '2026-01-02T00:00:00Z' })]);
  const { rows } = await pool.query<{ id: string }>(
    `insert into sales_2026_01 (customer_id, product_id, sales_agent_id, price, created_at) values ($1, $2, $3, 5, '2026-01-20T00:00:00Z') returning id`,
    [c.customers[0], c.products[0], c.agents[0]]);
  t.equal(BigInt(rows[0]!.id), BigInt(first!) + 1n, 'the next id of the same sequence');
  const [third] = await insertSales(pool, [makeSale(c, { created_at: '2026-01-03T00:00:00Z' })]);
  t.equal(BigInt(third!), BigInt(first!) + 2n, 'and the parent continues after it');
  await pool.query(`insert into sales_default (customer_id, product_id, sales_agent_id, price, created_at) values ($1, $2, $3, 5, '2026-02-20T00:00:00Z')`,
    [c.customers[0], c.products[0], c.agents[0]]);
  await exact(t, pool, 'direct inserts');
});

t.test('the named constraints refuse rows with their own names, through the parent or a partition', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await t.rejects(insertSales(pool, [makeSale(c, { price: '-1.00' })]), { code: '23514', constraint: 'sales_price_not_negative' });
  await t.rejects(insertSales(pool, [makeSale(c, { customer_id: '999999', created_at: '2026-01-05T00:00:00Z' })]), { code: '23503', constraint: 'sales_customer_id_fkey' });
  await t.rejects(pool.query(`insert into sales_2026_01 (customer_id, product_id, sales_agent_id, price, created_at) values ($1, 999999, $2, 1, '2026-01-05T00:00:00Z')`,
    [c.customers[0], c.agents[0]]), { code: '23503', constraint: 'sales_product_id_fkey' });
  await t.rejects(pool.query(`insert into sales (id, customer_id, product_id, sales_agent_id, price) values (1, $1, $2, $3, 1)`,
    [c.customers[0], c.products[0], c.agents[0]]), { code: '428C9' }, 'ids are the identity\'s: generated always');
  await exact(t, pool, 'refused rows');
});

t.test('an UPDATE that moves a sale to another month moves its amount (the parent\'s UPDATE trigger sees both sides)', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  const [january] = await insertSales(pool, spread(c));
  await fold(pool);
  // A trigger of the test's own records what the parent's UPDATE transition tables hold.
  await pool.query(`create table seen (old_month text, new_month text, old_ids bigint[], new_ids bigint[])`);
  await pool.query(`create function record_seen() returns trigger language plpgsql as $$
    begin
      insert into seen select (select string_agg(distinct to_char(created_at, 'YYYY-MM'), ',') from old_sales),
                              (select string_agg(distinct to_char(created_at, 'YYYY-MM'), ',') from new_sales),
                              array(select id from old_sales), array(select id from new_sales);
      return null;
    end $$`);
  await pool.query(`create trigger zz_seen after update on sales referencing old table as old_sales new table as new_sales
    for each statement execute function record_seen()`);

  await pool.query(`update sales set created_at = '2026-03-20T10:00:00Z' where id = $1`, [january]);
  t.same(await whereRows(pool), { sales_2026_03: 2, sales_default: 1 }, 'the row moved to March\'s partition');
  const { rows } = await pool.query('select old_month, new_month, old_ids::text[], new_ids::text[] from seen');
  t.same(rows, [{ old_month: '2026-01', new_month: '2026-03', old_ids: [january], new_ids: [january] }],
    'the moved row is in the OLD TABLE and the NEW TABLE of the parent\'s UPDATE trigger');
  await exact(t, pool, 'cross-partition update');

  await pool.query(`update sales set created_at = created_at - interval '1 month'`);
  t.same(await whereRows(pool), { sales_2026_01: 1, sales_default: 2 }, 'every row moved a month back, one into the default partition');
  await exact(t, pool, 'every row moved');
});

t.test('an UPDATE through a partition counts once; one that would leave the partition is refused and changes nothing', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  const [january] = await insertSales(pool, spread(c));
  await pool.query(`update sales_2026_01 set price = 9, sales_agent_id = $1 where id = $2`, [c.agents[2], january]);
  await exact(t, pool, 'update through a partition');
  const before = await actualRollups(pool);
  await t.rejects(pool.query(`update sales_2026_01 set created_at = '2026-03-01T00:00:00Z' where id = $1`, [january]), { code: '23514' });
  t.same(await actualRollups(pool), before);
  await pool.query(`update sales_default set price = price + 1`);
  await exact(t, pool, 'update through the default partition');
});

t.test('a DELETE through sales or straight from a partition subtracts each sale once', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await insertSales(pool, [...spread(c), ...spread(c)]);
  await fold(pool);
  await pool.query(`delete from sales where price = 1`);
  await exact(t, pool, 'delete through the parent, two sales of one partition');
  await pool.query(`delete from sales_2026_03 where price = 4 and id = (select min(id) from sales_2026_03)`);
  await exact(t, pool, 'delete from a partition');
  await pool.query(`delete from sales`);
  await exact(t, pool, 'delete of everything');
  t.same(await actualRollups(pool), []);
});

t.test('TRUNCATE of sales fires the partitions\' TRUNCATE triggers too, parent first; the rollups end empty', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await insertSales(pool, spread(c));
  await fold(pool);
  await insertSales(pool, spread(c));
  await pool.query(`create table fired (seq serial, name text)`);
  await pool.query(`create function record_fired() returns trigger language plpgsql as $$
    begin insert into fired (name) values (tg_relid::regclass || ' ' || lower(tg_when)); return null; end $$`);
  for (const table of ['sales', 'sales_2026_01']) {
    for (const when of ['before', 'after']) {
      await pool.query(`create trigger zz_fired_${when} ${when} truncate on ${table} for each statement execute function record_fired()`);
    }
  }
  await pool.query('truncate sales');
  const { rows } = await pool.query<{ name: string }>('select name from fired order by seq');
  t.same(rows.map((row) => row.name), ['sales before', 'sales_2026_01 before', 'sales after', 'sales_2026_01 after'],
    'the parent\'s BEFORE, the partition\'s BEFORE, the parent\'s AFTER, the partition\'s AFTER');
  t.same(await actualRollups(pool), []);
  t.equal(await pendingDeltas(pool), 0, 'the partitions subtracted nothing: the parent cleared the rollups at once');
  await exact(t, pool, 'truncate of the parent');

  await insertSales(pool, spread(c));
  await pool.query('truncate sales_2026_01');
  await exact(t, pool, 'a partition truncated after the parent in the same session: the mark is gone');
});

t.test('TRUNCATE of one partition subtracts that month only', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await insertSales(pool, [...spread(c), ...spread(c)]);
  await fold(pool);
  await pool.query('truncate sales_2026_01');
  t.same(await whereRows(pool), { sales_2026_03: 2, sales_default: 2 });
  await exact(t, pool, 'truncate of a month');
  await pool.query('truncate sales_default');
  await exact(t, pool, 'truncate of the default partition');
  await pool.query('truncate sales_2026_03, sales_2026_01');
  await exact(t, pool, 'two partitions in one statement');
  t.same(await actualRollups(pool), []);
});

t.test('a rolled-back TRUNCATE of a partition, or of a partition and then sales in one transaction, stays exact', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await insertSales(pool, spread(c));
  const before = await actualRollups(pool);
  const client = await pool.connect();
  t.teardown(() => client.release());
  await client.query('begin');
  await client.query('truncate sales_2026_03');
  await client.query('rollback');
  t.same(await actualRollups(pool), before, 'rolled back: nothing changed');

  await client.query('begin');
  await client.query('truncate sales_2026_03');
  await insertSales(client, spread(c));
  await client.query('truncate sales');
  await insertSales(client, [makeSale(c, { created_at: '2026-03-01T00:00:00Z' })]);
  await client.query('truncate sales_default');
  await client.query('commit');
  await exact(t, pool, 'partition, parent, partition in one transaction');
});

t.test('creating a month\'s partition while the default partition holds its sales moves them, rollups unchanged', async (t) => {
  const { pool, c } = await partitionedDatabase(t);
  await insertSales(pool, [...spread(c), makeSale(c, { created_at: '2026-02-28T23:59:59Z', price: '8.00' }), makeSale(c, { created_at: '2026-04-01T00:00:00Z' })]);
  await fold(pool);
  const before = await actualRollups(pool);
  const { rows } = await pool.query<{ name: string }>(`select create_sales_partitions('2026-01-01', '2026-04-01') as name`);
  t.same(rows.map((row) => row.name), ['sales_2026_02', 'sales_2026_04'], 'only the missing months');
  t.same(await whereRows(pool), { sales_2026_01: 1, sales_2026_02: 2, sales_2026_03: 1, sales_2026_04: 1 });
  t.same(await actualRollups(pool), before, 'the move did not change the rollups');
  await fold(pool);
  t.same(await actualRollups(pool), before, 'nor once its deltas are folded (they cancel out)');
  await exact(t, pool, 'after the move');
  const again = await pool.query(`select create_sales_partitions('2026-01-01', '2026-04-01') as name`);
  t.same(again.rows, [], 'idempotent');
  await insertSales(pool, [makeSale(c, { created_at: '2026-02-03T00:00:00Z' })]);
  t.same(await whereRows(pool), { sales_2026_01: 1, sales_2026_02: 3, sales_2026_03: 1, sales_2026_04: 1 }, 'new rows go to the new partition');
  await exact(t, pool, 'a new partition counts');
});

t.test('ensure_sales_partitions creates the current month and the next N, at once from two sessions', async (t) => {
  const { pool } = await freshDatabase(t, { poolSize: 4 });
  const runs = await Promise.all([0, 1, 2].map(() => pool.query<{ name: string }>('select ensure_sales_partitions(2) as name')));
  const created = runs.flatMap((run) => run.rows.map((row) => row.name)).sort();
  const { rows: [now] } = await pool.query<{ months: string[] }>(`select array(select 'sales_' || to_char(date_trunc('month', now() at time zone 'UTC') + make_interval(months => i), 'YYYY_MM') from generate_series(0, 2) as i) as months`);
  t.same(created, now!.months, 'each month created once, by one of the sessions');
  await t.rejects(pool.query('select ensure_sales_partitions(-1)'), { code: '22023' });
});
