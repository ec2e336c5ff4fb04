import t from 'tap';
import { freshDatabase } from '../helpers/database.ts';

t.test('vacuum never truncates the rollup tables: its exclusive lock would cancel page reads on replicas', async (t) => {
  const { pool } = await freshDatabase(t);
  const { rows } = await pool.query<{ relname: string; reloptions: string[] | null }>(`
    select relname, reloptions from pg_class
    where relname in ('daily_sales_stats_pending', 'daily_sales_stats_folded') order by relname`);
  for (const row of rows) t.ok(row.reloptions?.includes('vacuum_truncate=false'), `${row.relname}: ${String(row.reloptions)}`);
  t.equal(rows.length, 2);
});
