import t from 'tap';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { freshDatabase } from '../helpers/database.ts';
import { insertSales, makeCatalogue, makeSale } from '../factories/sales.ts';
import { actualRollups, expectedRollups, fold, pendingDeltas, verifyDifferences } from '../helpers/rollups.ts';

async function rollupOf(pool: import('pg').Pool, dimension: string, entityId: string, day: string) {
  const { rows } = await pool.query<{ sales_count: string; total_price: string }>(
    `select sales_count::text, total_price::text from daily_sales_stats where dimension = $1 and entity_id = $2 and day = $3`,
    [dimension, entityId, day]);
  return rows[0];
}

t.test('a single-row insert counts the sale for its agent, product and customer', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c, { price: '12.50' })]);
  for (const [dimension, id] of [['agent', c.agents[0]!], ['product', c.products[0]!], ['customer', c.customers[0]!]] as const) {
    t.same(await rollupOf(pool, dimension, id, '2026-03-10'), { sales_count: '1', total_price: '12.50' }, dimension);
  }
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

t.test('a multi-row insert is aggregated into one delta per key', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c), makeSale(c, { price: '5.00' }), makeSale(c, { sales_agent_id: c.agents[1]! })]);
  // agents: 2 keys, product: 1, customer: 1 -> 4 delta rows for 3 sales
  t.equal(await pendingDeltas(pool), 4);
  t.same(await rollupOf(pool, 'agent', c.agents[0]!, '2026-03-10'), { sales_count: '2', total_price: '15.00' });
  t.same(await rollupOf(pool, 'product', c.products[0]!, '2026-03-10'), { sales_count: '3', total_price: '25.00' });
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

t.test('COPY into sales updates the rollups', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  const client = await pool.connect();
  try {
    const lines = Array.from({ length: 500 }, (_, i) =>
      `${c.customers[i % 3]},${c.products[i % 2]},${c.agents[i % 3]},${(i % 7) + 0.25},2026-03-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z\n`);
    await pipeline(Readable.from(lines), client.query(copyFrom('copy sales (customer_id, product_id, sales_agent_id, price, created_at) from stdin with (format csv)')));
  } finally {
    client.release();
  }
  t.equal(await verifyDifferences(pool), 0);
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

t.test('updates move amounts between keys', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  const [id] = await insertSales(pool, [makeSale(c, { price: '10.00' })]);
  await insertSales(pool, [makeSale(c, { price: '1.00' })]);

  const steps: [string, string, unknown][] = [
    ['a price change changes the total but not the count', 'update sales set price = 11 where id = $1', id],
    ['moving a sale to another agent moves its amount', `update sales set sales_agent_id = ${c.agents[1]} where id = $1`, id],
    ['moving a sale to another product moves its amount', `update sales set product_id = ${c.products[2]} where id = $1`, id],
    ['moving a sale to another customer moves its amount', `update sales set customer_id = ${c.customers[1]} where id = $1`, id],
    ['moving a sale to another day moves its amount', `update sales set created_at = created_at + interval '2 days' where id = $1`, id],
    ['changing everything at once moves it everywhere', `update sales set price = 3, sales_agent_id = ${c.agents[2]}, product_id = ${c.products[1]}, customer_id = ${c.customers[2]}, created_at = '2026-04-01T00:00:00Z' where id = $1`, id],
  ];
  for (const [name, statement, param] of steps) {
    await pool.query(statement, [param]);
    t.same(await actualRollups(pool), await expectedRollups(pool), name);
  }
  t.same(await rollupOf(pool, 'agent', c.agents[0]!, '2026-03-10'), { sales_count: '1', total_price: '1.00' },
    'the agent that lost the sale keeps only the other one');
  t.equal(await verifyDifferences(pool), 0);
});

t.test('an update that changes no counted column writes no delta and stamps updated_at', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  const [id] = await insertSales(pool, [makeSale(c)]);
  await fold(pool);
  await pool.query(`update sales set updated_at = '2000-01-01' where id = $1`, [id]);
  t.equal(await pendingDeltas(pool), 0, 'no delta');
  const { rows } = await pool.query<{ fresh: boolean }>(`select updated_at > now() - interval '1 minute' as fresh from sales where id = $1`, [id]);
  t.equal(rows[0]?.fresh, true, 'the database keeps updated_at, whatever the statement says');
});

t.test('deleting the last sale of a key removes its rollup row, with no zero-count rows left', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  const [first, second] = await insertSales(pool, [makeSale(c), makeSale(c, { sales_agent_id: c.agents[1]! })]);
  await fold(pool);
  await pool.query('delete from sales where id = $1', [first]);
  t.equal(await rollupOf(pool, 'agent', c.agents[0]!, '2026-03-10'), undefined, 'gone before the fold');
  await fold(pool);
  t.equal(await rollupOf(pool, 'agent', c.agents[0]!, '2026-03-10'), undefined, 'gone after the fold');
  const { rows } = await pool.query(`select * from daily_sales_stats_folded where sales_count = 0`);
  t.equal(rows.length, 0, 'no zero-count folded row');
  await pool.query('delete from sales where id = $1', [second]);
  await fold(pool);
  t.same(await actualRollups(pool), []);
});

t.test('TRUNCATE empties the rollups, and a rolled-back TRUNCATE brings them back', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c), makeSale(c, { created_at: '2026-03-11T00:00:00Z' })]);
  await fold(pool);
  await insertSales(pool, [makeSale(c)]); // one still pending
  const before = await actualRollups(pool);

  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('truncate sales');
    t.same(await actualRollups(client), [], 'empty inside the transaction');
    await client.query('rollback');
  } finally {
    client.release();
  }
  t.same(await actualRollups(pool), before, 'restored by the rollback');

  await pool.query('truncate sales');
  t.same(await actualRollups(pool), []);
  t.equal(await pendingDeltas(pool), 0);
  await insertSales(pool, [makeSale(c)]);
  t.same(await actualRollups(pool), await expectedRollups(pool), 'counting starts again from zero');
});

t.test('TRUNCATE of customers with CASCADE clears the rollups too', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c)]);
  await pool.query('truncate customers cascade');
  t.same(await actualRollups(pool), []);
});

t.test('the fold moves pending deltas into the folded table without changing what readers see', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c), makeSale(c, { price: '2.00' })]);
  await insertSales(pool, [makeSale(c, { price: '3.00' })]);
  const before = await actualRollups(pool);
  t.equal(await pendingDeltas(pool), 6);
  t.equal(await fold(pool), 6, 'reports the deltas it folded');
  t.equal(await pendingDeltas(pool), 0);
  t.same(await actualRollups(pool), before);
  t.equal(await fold(pool), 0, 'nothing left to fold');
});

t.test('a fold leaves deltas of uncommitted transactions for later', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  const writer = await pool.connect();
  try {
    await writer.query('begin');
    await insertSales(writer, [makeSale(c)]);
    t.equal(await fold(pool), 0, 'the uncommitted deltas are invisible to the fold');
    await writer.query('commit');
  } finally {
    writer.release();
  }
  t.equal(await fold(pool), 3);
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

t.test('sale_day follows the business time zone, and changing it rebuilds the rollups', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  // 23:30 UTC on 10 March is already 11 March in Berlin and still 10 March in New York.
  await insertSales(pool, [makeSale(c, { created_at: '2026-03-10T23:30:00Z' })]);
  t.same(await rollupOf(pool, 'agent', c.agents[0]!, '2026-03-10'), { sales_count: '1', total_price: '10.00' }, 'UTC by default');

  await pool.query(`select set_stats_time_zone('Europe/Berlin')`);
  t.equal(await rollupOf(pool, 'agent', c.agents[0]!, '2026-03-10'), undefined);
  t.same(await rollupOf(pool, 'agent', c.agents[0]!, '2026-03-11'), { sales_count: '1', total_price: '10.00' }, 'moved to the Berlin day');
  const { rows } = await pool.query(`select sale_day('2026-03-10T23:30:00Z'::timestamptz)::text as day`);
  t.equal(rows[0].day, '2026-03-11');

  await insertSales(pool, [makeSale(c, { created_at: '2026-03-10T22:59:00Z' })]);
  t.same(await actualRollups(pool), await expectedRollups(pool), 'new sales use the new zone');
});

t.test('an unknown time zone is refused with a clear error and changes nothing', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c)]);
  const before = await actualRollups(pool);
  for (const zone of ['Mars/Olympus', 'UTC+3', '', 'europe/london']) {
    await t.rejects(pool.query('select set_stats_time_zone($1)', [zone]), { code: 'TT001', message: /unknown time zone/ }, `refuses "${zone}"`);
  }
  await t.rejects(pool.query('select set_stats_time_zone(null)'), { code: 'TT001' });
  const { rows } = await pool.query('select time_zone from stats_settings');
  t.equal(rows[0].time_zone, 'UTC');
  t.same(await actualRollups(pool), before);
});

t.test('rebuild recounts a range and adopts sales that predate the triggers', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await pool.query('alter table sales disable trigger user');
  await insertSales(pool, [makeSale(c), makeSale(c, { created_at: '2026-03-12T08:00:00Z' }), makeSale(c, { created_at: '2026-03-20T08:00:00Z' })]);
  await pool.query('alter table sales enable trigger user');
  t.not(await verifyDifferences(pool), 0, 'verify sees the sales the rollups missed');

  const { rows } = await pool.query(`select rebuild_daily_sales_stats('2026-03-10', '2026-03-12') as n`);
  t.equal(rows[0].n, '6', 'two days x three dimensions');
  const left = await pool.query<{ day: string; dimension: string }>('select day::text, dimension from verify_daily_sales_stats()');
  const daily = left.rows.filter((row) => !row.dimension.includes(' '));
  t.same([...new Set(daily.map((row) => row.day))], ['2026-03-20'], 'only the day outside the range still differs');
  // The period rows (sql/065: "<dimension> month", "<dimension> year") that hold that day differ too.
  t.same([...new Set(left.rows.filter((row) => row.dimension.includes(' ')).map((row) => row.day))].sort(), ['2026-01-01', '2026-03-01'],
    'and so do its month and its year');

  await pool.query('select rebuild_daily_sales_stats()');
  t.equal(await verifyDifferences(pool), 0, 'a full rebuild adopts everything');
  t.same(await actualRollups(pool), await expectedRollups(pool));
  const indexes = await pool.query(`select indexname from pg_indexes where tablename = 'daily_sales_stats_folded' order by 1`);
  t.same(indexes.rows.map((row) => row.indexname), ['daily_sales_stats_folded_entity_idx', 'daily_sales_stats_folded_pkey'], 'a full rebuild restores the indexes');
});

t.test('a rebuild with from after to is refused', async (t) => {
  const { pool } = await freshDatabase(t);
  await t.rejects(pool.query(`select rebuild_daily_sales_stats('2026-03-12', '2026-03-10')`), { code: 'TT002', message: /from 2026-03-12 is after to 2026-03-10/ });
});

t.test('verify reports a tampered rollup row with both sides', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  await insertSales(pool, [makeSale(c)]);
  await fold(pool);
  await pool.query(`update daily_sales_stats_folded set total_price = 99 where dimension = 'agent'`);
  const { rows } = await pool.query('select * from verify_daily_sales_stats()');
  t.same(rows.map((row) => [row.dimension, row.expected_total, row.actual_total]), [['agent', '10.00', '99']]);
});
