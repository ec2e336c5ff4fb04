import t from 'tap';
import type pg from 'pg';
import { seededRandom } from '../../src/seed/random.ts';
import { insertSales, makeCatalogue, makeSale, type Catalogue } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { actualRollups, expectedRollups, verifyDifferences } from '../helpers/rollups.ts';

t.test('a writer of a hot key never waits for another writer of the same key', async (t) => {
  const { pool } = await freshDatabase(t, { poolSize: 3 });
  const c = await makeCatalogue(pool);
  const first = await pool.connect();
  const second = await pool.connect();
  try {
    await first.query('begin');
    await insertSales(first, [makeSale(c)]);
    // The first transaction is still open. If it held a lock on the rollup
    // row of (agent 1, 2026-03-10), this insert would wait and time out.
    await second.query(`set lock_timeout = '1s'`);
    await insertSales(second, [makeSale(c)]);
    t.pass('the second writer committed while the first was still open');
    await first.query('commit');
  } finally {
    first.release();
    second.release();
  }
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

t.test('two transactions writing the same keys in opposite orders do not deadlock', async (t) => {
  const { pool } = await freshDatabase(t, { poolSize: 3 });
  const c = await makeCatalogue(pool);
  const keyA = makeSale(c, { sales_agent_id: c.agents[0]!, customer_id: c.customers[0]! });
  const keyB = makeSale(c, { sales_agent_id: c.agents[1]!, customer_id: c.customers[1]! });
  const one = await pool.connect();
  const two = await pool.connect();
  try {
    for (const client of [one, two]) {
      await client.query(`set lock_timeout = '2s'`);
      await client.query('begin');
    }
    await insertSales(one, [keyA]);
    await insertSales(two, [keyB]);
    await insertSales(one, [keyB]); // with upserted rollup rows, each would now wait for the other
    await insertSales(two, [keyA]);
    await one.query('commit');
    await two.query('commit');
  } finally {
    one.release();
    two.release();
  }
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

/**
 * Many connections insert, update and delete at once, on a few hot keys and on
 * spread ones, in single- and multi-statement transactions, while the fold
 * runs beside them. No statement may fail and the result must be exact.
 */
t.test('concurrent writers and folds: no errors, no lost counts', async (t) => {
  const writers = 12;
  const { pool } = await freshDatabase(t, { poolSize: writers + 2 });
  const c = await makeCatalogue(pool, 6);
  const errors: string[] = [];
  let folding = true;

  const folder = (async () => {
    let folds = 0;
    while (folding && folds < 10_000) {
      await pool.query('select fold_daily_sales_stats()').catch((error: Error) => errors.push(`fold: ${error.message}`));
      folds++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();

  await Promise.all(Array.from({ length: writers }, async (_, writer) => {
    const random = seededRandom(1000 + writer);
    const client = await pool.connect();
    // Each writer updates and deletes only sales it inserted: row locks on
    // sales are the application's business; the rollup keys are shared.
    const mine: string[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        try {
          await client.query('begin');
          const statements = random.int(1, 3);
          for (let s = 0; s < statements; s++) await randomWrite(client, c, random, mine);
          await client.query(random.int(0, 9) === 0 ? 'rollback' : 'commit');
        } catch (error) {
          errors.push(`writer ${writer}: ${(error as Error).message}`);
          await client.query('rollback');
        }
      }
    } finally {
      client.release();
    }
  }));
  folding = false;
  await folder;

  t.same(errors, [], 'no statement failed (no deadlock, no serialization failure)');
  await pool.query('select fold_daily_sales_stats()');
  t.equal(await verifyDifferences(pool), 0, 'verify finds no difference');
  const { rows } = await pool.query<{ n: string }>('select count(*) as n from sales');
  t.ok(Number(rows[0]?.n) > 100, `${rows[0]?.n} sales written concurrently`);
  t.same(await actualRollups(pool), await expectedRollups(pool));
});

async function randomWrite(client: pg.PoolClient, c: Catalogue, random: ReturnType<typeof seededRandom>, mine: string[]) {
  const hot = random.int(0, 1) === 0; // half the writes go to agent 0 / product 0 / customer 0 on one day
  const pick = (ids: string[]) => (hot ? ids[0]! : ids[random.int(0, ids.length - 1)]!);
  const day = hot ? 10 : random.int(1, 28);
  const sale = () => makeSale(c, {
    sales_agent_id: pick(c.agents), product_id: pick(c.products), customer_id: pick(c.customers),
    price: `${random.int(0, 500)}.${random.int(10, 99)}`, created_at: `2026-03-${String(day).padStart(2, '0')}T${String(random.int(0, 23)).padStart(2, '0')}:00:00Z`,
  });
  const some = (n: number) => Array.from({ length: n }, () => mine[random.int(0, Math.max(0, mine.length - 1))]).filter(Boolean);
  switch (random.int(0, 4)) {
    case 0:
      mine.push(...await insertSales(client, [sale()]));
      return;
    case 1:
      mine.push(...await insertSales(client, Array.from({ length: random.int(2, 20) }, sale)));
      return;
    case 2:
      await client.query(`update sales set sales_agent_id = $1, price = price + 1 where id = any($2::bigint[])`, [pick(c.agents), some(3)]);
      return;
    case 3:
      await client.query(`update sales set created_at = created_at + interval '1 day' where id = any($1::bigint[])`, [some(2)]);
      return;
    default:
      await client.query('delete from sales where id = any($1::bigint[])', [some(2)]);
  }
}
