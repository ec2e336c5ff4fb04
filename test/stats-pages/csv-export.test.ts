import t from 'tap';
import { dimensions } from '../../src/stats/dimensions.ts';
import { tableCsv } from '../../src/stats/stats-export.ts';
import type { StatsQuery } from '../../src/stats/stats-query.ts';
import { freshDatabase } from '../helpers/database.ts';
import { loadFixture } from './fixture.ts';

const products = dimensions.find((d) => d.slug === 'products')!;
const query = (changes: Partial<StatsQuery>): StatsQuery => ({
  from: '2026-03-01', to: '2026-03-10', q: undefined, sort: 'day', dir: 'desc', page: 1, perPage: 50, view: 'table', ...changes,
});

/** Connections to this database other than the test's own query: busy or idle in a transaction. */
async function openTransactions(pool: import('pg').Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() and state in ('active', 'idle in transaction')`);
  return rows[0]!.n;
}

t.test('a CSV export the database refuses fails before the stream exists, so the route can still answer with a status', async (t) => {
  const { pool, db } = await freshDatabase(t);
  await loadFixture(pool);
  // What `to=0001-01-01` turned into before dates were bounded: a range the database cannot read.
  await t.rejects(tableCsv(pool, db, products, query({ from: '0000-12-03', to: '0001-01-01' })), { code: '22008' }, 'rejected, not a stream that breaks later');
  t.equal(pool.totalCount - pool.idleCount, 0, 'the connection went back');
  t.equal(await openTransactions(pool), 0, 'no transaction left open');
});

t.test('a CSV stream streams every row; one closed before it is read frees its connection', async (t) => {
  const { pool, db } = await freshDatabase(t);
  await loadFixture(pool);
  const whole = await tableCsv(pool, db, products, query({}));
  let text = '';
  for await (const chunk of whole) text += String(chunk);
  t.match(text, /^day,product_id,product_name,sales_count,total_price\r\n/);
  t.ok(text.split('\r\n').length > 3, 'rows follow the header');

  const abandoned = await tableCsv(pool, db, products, query({}));
  t.ok(pool.totalCount - pool.idleCount >= 1, 'the cursor holds a connection while the stream is open');
  abandoned.destroy();
  for (let i = 0; i < 50 && pool.totalCount - pool.idleCount > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(pool.totalCount - pool.idleCount, 0, 'a client that went away before the first byte: the connection is back');
  t.equal(await openTransactions(pool), 0, 'and its transaction ended');
});
