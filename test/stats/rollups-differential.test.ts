import fc from 'fast-check';
import type pg from 'pg';
import t from 'tap';
import { insertSales, makeCatalogue, type Catalogue, type SaleValues } from '../factories/sales.ts';
import { freshDatabase } from '../helpers/database.ts';
import { copySales, existingSale, runBatches, updateSale } from '../helpers/sale-writes.ts';
import { actualRollups, expectedRollups, verifyDifferences } from '../helpers/rollups.ts';

/**
 * Random sequences of every kind of write, in random transactions, then the
 * rollups must equal a plain GROUP BY over sales. Instants cluster around
 * midnights and the March DST change, zones include half-hour and +14 offsets,
 * so day boundaries are exercised hard.
 */

const ZONES = ['UTC', 'Europe/London', 'America/New_York', 'Asia/Kolkata', 'Pacific/Kiritimati'];
const BASE_MS = Date.parse('2026-03-28T18:00:00Z');

const saleArb = fc.record({
  customer: fc.nat(3), product: fc.nat(3), agent: fc.nat(3),
  cents: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 99_999 })),
  minutes: fc.integer({ min: 0, max: 60 * 72 }),
});
type SaleSpec = typeof saleArb extends fc.Arbitrary<infer T> ? T : never;

const ref = fc.nat(1000); // which existing sale, modulo their number
const opArb = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 1 }) }),
  fc.record({ kind: fc.constant('insert' as const), sales: fc.array(saleArb, { minLength: 2, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('copy' as const), sales: fc.array(saleArb, { minLength: 1, maxLength: 30 }) }),
  fc.record({ kind: fc.constant('update' as const), target: ref, column: fc.constantFrom('price', 'sales_agent_id', 'product_id', 'customer_id', 'created_at', 'all', 'nothing'), value: saleArb }),
  fc.record({ kind: fc.constant('updateMany' as const), modulo: fc.integer({ min: 2, max: 4 }), remainder: fc.nat(3), column: fc.constantFrom('price', 'sales_agent_id', 'created_at', 'swap_ids') }),
  fc.record({ kind: fc.constant('delete' as const), target: ref }),
  fc.record({ kind: fc.constant('deleteMany' as const), modulo: fc.integer({ min: 2, max: 5 }), remainder: fc.nat(4) }),
  fc.record({ kind: fc.constant('truncate' as const) }),
  fc.record({ kind: fc.constant('timeZone' as const), zone: fc.constantFrom(...ZONES) }),
  fc.record({ kind: fc.constant('fold' as const) }),
  fc.record({ kind: fc.constant('rebuild' as const), fromOffset: fc.integer({ min: -1, max: 3 }), length: fc.integer({ min: 0, max: 3 }) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const batchArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 5 }),
  ending: fc.constantFrom('commit', 'commit', 'commit', 'rollback'),
});

function toSale(c: Catalogue, spec: SaleSpec): SaleValues {
  return {
    customer_id: c.customers[spec.customer]!, product_id: c.products[spec.product]!, sales_agent_id: c.agents[spec.agent]!,
    price: (spec.cents / 100).toFixed(2), created_at: new Date(BASE_MS + spec.minutes * 60_000).toISOString(),
  };
}

async function apply(client: pg.PoolClient, c: Catalogue, op: Op): Promise<void> {
  switch (op.kind) {
    case 'insert':
      await insertSales(client, op.sales.map((spec) => toSale(c, spec)));
      return;
    case 'copy':
      await copySales(client, 'sales', op.sales.map((spec) => toSale(c, spec)));
      return;
    case 'update': {
      const id = await existingSale(client, op.target);
      if (!id) return;
      await updateSale(client, id, op.column, toSale(c, op.value));
      return;
    }
    case 'updateMany': {
      const set = {
        price: 'price = price + 1.01',
        sales_agent_id: `sales_agent_id = ${c.agents[1]}`,
        created_at: `created_at = created_at + interval '5 hours 17 minutes'`,
        // every sale of this slice trades its agent and customer for the other's ids
        swap_ids: `sales_agent_id = case when sales_agent_id = ${c.agents[0]} then ${c.agents[2]} else ${c.agents[0]} end, customer_id = ${c.customers[3]}`,
      } as const;
      await client.query(`update sales set ${set[op.column]} where id % $1 = $2`, [op.modulo, op.remainder % op.modulo]);
      return;
    }
    case 'delete': {
      const id = await existingSale(client, op.target);
      if (id) await client.query('delete from sales where id = $1', [id]);
      return;
    }
    case 'deleteMany':
      await client.query('delete from sales where id % $1 = $2', [op.modulo, op.remainder % op.modulo]);
      return;
    case 'truncate':
      await client.query('truncate sales');
      return;
    case 'timeZone':
      await client.query('select set_stats_time_zone($1)', [op.zone]);
      return;
    case 'fold':
      await client.query('select fold_daily_sales_stats()');
      return;
    case 'rebuild': {
      const from = new Date(Date.parse('2026-03-28T00:00:00Z') + op.fromOffset * 86_400_000).toISOString().slice(0, 10);
      const to = new Date(Date.parse(from) + op.length * 86_400_000).toISOString().slice(0, 10);
      await client.query('select rebuild_daily_sales_stats($1, $2)', [from, to]);
      return;
    }
  }
}

t.test('after any sequence of writes the rollups equal a GROUP BY over sales', async (t) => {
  const { pool } = await freshDatabase(t);
  const catalogue = await makeCatalogue(pool, 4);
  let runs = 0;

  await fc.assert(
    fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 8 }), async (batches) => {
      await pool.query('truncate sales');
      await pool.query(`select set_stats_time_zone('UTC')`);
      await runBatches(pool, batches, (client, op) => apply(client, catalogue, op));
      runs++;
      const differences = await verifyDifferences(pool);
      const actual = await actualRollups(pool);
      const expected = await expectedRollups(pool);
      return differences === 0 && JSON.stringify(actual) === JSON.stringify(expected);
    }),
    { numRuns: Number(process.env.ROLLUP_PROPERTY_RUNS ?? 60), seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
  );
  t.equal(runs >= 60 || runs === Number(process.env.ROLLUP_PROPERTY_RUNS), true, `${runs} random sequences checked`);

  // The property must be able to fail: corrupt one rollup and check the same comparison catches it.
  await insertSales(pool, [toSale(catalogue, { customer: 0, product: 0, agent: 0, cents: 100, minutes: 0 })]);
  await pool.query('select fold_daily_sales_stats()');
  await pool.query(`update daily_sales_stats_folded set sales_count = sales_count + 1 where dimension = 'product'`);
  t.not(JSON.stringify(await actualRollups(pool)), JSON.stringify(await expectedRollups(pool)), 'a corrupted rollup is caught');
});
