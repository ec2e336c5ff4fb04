import pg from 'pg';
import t from 'tap';
import { migrate, migrationStatus } from '../../src/db/migrate.ts';
import { emptyDatabase, testLog } from '../helpers/database.ts';

const ORDER_TABLES = ['orders', 'order_items', 'payments', 'order_events', 'webhook_events', 'invoice_counters', 'invoices', 'invoice_documents'];
const ORDER_FUNCTIONS = ['allocate_invoice_number', 'order_default_sales_agent', 'tg_invoices__refuse_change'];

async function orderObjects(client: pg.Client) {
  const { rows: [row] } = await client.query(`select
      (select count(*)::int from unnest($1::text[]) as t(name) where to_regclass(t.name) is not null) as tables,
      (select count(*)::int from pg_proc where proname = any($2::text[])) as functions,
      (select count(*)::int from pg_trigger where tgname in ('_100_refuse_change') or (tgname = '_100_set_updated_at' and tgrelid::regclass::text in ('orders', 'payments'))) as triggers,
      (select count(*)::int from information_schema.columns where table_name = 'sales_agents' and column_name = 'referral_code') as referral_column`,
  [ORDER_TABLES, ORDER_FUNCTIONS]);
  return row;
}

t.test('the order workflow migration goes down and up again, leaving nothing of its own behind', async (t) => {
  const { url } = await emptyDatabase(t);
  const applied = await migrate(url, 'up', testLog);
  const mine = applied.findIndex((name) => name.endsWith('_order-workflow'));
  t.ok(mine >= 0, 'the migration ran');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  t.teardown(() => client.end());
  t.same(await orderObjects(client), { tables: 8, functions: 3, triggers: 3, referral_column: 1 });

  const undone = await migrate(url, 'down', testLog, applied.length - mine);
  t.match(undone.at(-1), /_order-workflow$/);
  t.same(await orderObjects(client), { tables: 0, functions: 0, triggers: 0, referral_column: 0 });
  const { rows: [sales] } = await client.query(`select to_regclass('sales') is not null as present`);
  t.equal(sales.present, true, 'the sales schema stays');

  await migrate(url, 'up', testLog);
  t.same(await orderObjects(client), { tables: 8, functions: 3, triggers: 3, referral_column: 1 });
  t.same(await migrationStatus(client), { pending: [], replaceableSqlCurrent: true });
});
