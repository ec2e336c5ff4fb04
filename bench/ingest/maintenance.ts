/** (f): verify and rebuild at the size reached, and the final exactness check. */
import { checkpoint, startBackgroundFold, timeQuery } from './measure.ts';
import { type Maintenance, type Side } from './model.ts';
import { int, note, secs } from './progress.ts';

// (f) maintenance at the size of (a), and the closing check

export async function measureMaintenance(rollups: Side, foldAfterCopyMs: number): Promise<Maintenance> {
  const { rows } = await rollups.pool.query<{ n: string }>('select count(*) as n from sales');
  const sales = Number(rows[0]!.n);
  note(`(f) verify and full rebuild at ${int(sales)} sales`);
  await checkpoint(rollups);
  const fold = await startBackgroundFold(rollups.url); // as in production; the rebuild's lock makes it wait its turn
  try {
    const verify = await timeQuery(rollups.pool, 'select count(*) as n from verify_daily_sales_stats()');
    const rebuild = await timeQuery(rollups.pool, 'select rebuild_daily_sales_stats() as n');
    const result = {
      sales, foldAfterCopyMs,
      verifyMs: verify.ms, verifyDifferences: Number(verify.rows[0]!.n),
      rebuildMs: rebuild.ms, rebuiltRows: Number(rebuild.rows[0]!.n),
    };
    note(`(f) verify ${secs(result.verifyMs)} (${result.verifyDifferences} differences), rebuild ${secs(result.rebuildMs)} (${int(result.rebuiltRows)} rollup rows)`);
    return result;
  } finally {
    await fold.stop();
  }
}

export async function finalDifferences(rollups: Side): Promise<{ differences: number; sales: number }> {
  const { rows } = await rollups.pool.query<{ n: string; sales: string }>(
    'select (select count(*) from verify_daily_sales_stats()) as n, (select count(*) from sales) as sales');
  return { differences: Number(rows[0]!.n), sales: Number(rows[0]!.sales) };
}
