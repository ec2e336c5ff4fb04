import t from 'tap';
import { createFoldStep } from '../../src/stats/fold-step.ts';
import { makeCatalogue } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { actualRollups, expectedRollups, pendingDeltas } from '../helpers/rollups.ts';

async function vacuumCount(pool: import('pg').Pool): Promise<number> {
  const { rows } = await pool.query(`select vacuum_count::int as n from pg_stat_user_tables where relname = 'daily_sales_stats_pending'`);
  return rows[0].n;
}

t.test('the fold step vacuums the pending table once enough deltas were folded away', async (t) => {
  const { pool } = await freshDatabase(t);
  const c = await makeCatalogue(pool);
  const step = createFoldStep(pool);
  const insertSpread = () => pool.query(
    `insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
     select ($1::bigint[])[1 + i % 3], ($2::bigint[])[1 + i % 3], ($3::bigint[])[1 + i % 3], 1, '2025-01-01'::timestamptz + (i % 1000) * interval '1 day'
     from generate_series(1, 3000) as i`, [c.customers, c.products, c.agents]);

  await insertSpread(); // every sale its own (day, entity) key: 3,000 keys x 3 dimensions
  t.equal(await step(), 9000);
  t.equal(await vacuumCount(pool), 0, 'not yet: 9,000 dead rows');
  await insertSpread();
  await insertSpread();
  t.equal(await step(), 18_000);
  t.equal(await vacuumCount(pool), 1, 'vacuumed after 27,000 folded deltas');
  t.equal(await pendingDeltas(pool), 0);
  t.same(await actualRollups(pool), await expectedRollups(pool));
});
