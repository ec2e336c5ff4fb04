/** Verify and rebuild of one month (what `stats verify --month` / `rebuild --month` call, sql/070). */
import { timeQuery } from '../ingest/measure.ts';
import { type Side } from '../ingest/model.ts';
import { int, note, secs } from '../ingest/progress.ts';

/** The last full month of the seeded span (it ends 2025-12-31). */
export const MONTH = { label: '2025-11', first: '2025-11-01', last: '2025-11-30' };

export interface MonthTimes {
  verifyMs: number;
  differences: number;
  /** A rebuild of the exact month: the recount and the comparison, nothing to write. */
  rebuildMs: number;
  rebuiltRows: number;
  /** A rebuild after the month's daily rows were deleted (sales adopted from a load with the triggers off): every row written. */
  refillMs: number;
  refilledRows: number;
}

export async function timeMonth(rollups: Side): Promise<MonthTimes> {
  await rollups.pool.query('select fold_daily_sales_stats()');
  const verify = await timeQuery(rollups.pool, `select count(*) as n from verify_daily_sales_stats('${MONTH.first}', '${MONTH.last}')`);
  const rebuild = await timeQuery(rollups.pool, `select rebuild_daily_sales_stats('${MONTH.first}', '${MONTH.last}') as n`);
  // The worst case of a ranged rebuild, which patches: every daily row of the month missing.
  await rollups.pool.query(`delete from daily_sales_stats_folded where dimension in ('agent', 'product', 'customer') and day between '${MONTH.first}' and '${MONTH.last}'`);
  const refill = await timeQuery(rollups.pool, `select rebuild_daily_sales_stats('${MONTH.first}', '${MONTH.last}') as n`);
  await rollups.pool.query('vacuum (analyze) daily_sales_stats_folded, period_sales_stats_folded');
  const result = {
    verifyMs: verify.ms, differences: Number(verify.rows[0]!.n),
    rebuildMs: rebuild.ms, rebuiltRows: Number(rebuild.rows[0]!.n),
    refillMs: refill.ms, refilledRows: Number(refill.rows[0]!.n),
  };
  note(`(month ${MONTH.label}) verify ${secs(result.verifyMs)} (${result.differences} differences), rebuild ${secs(result.rebuildMs)} (${int(result.rebuiltRows)} rows corrected), `
    + `rebuild with the month's daily rows deleted ${secs(result.refillMs)} (${int(result.refilledRows)} rows written)`);
  return result;
}
