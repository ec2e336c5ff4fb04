/** Verify and rebuild of one month (what `stats verify --month` / `rebuild --month` call, sql/070). */
import { timeQuery } from '../ingest/measure.ts';
import { type Side } from '../ingest/model.ts';
import { int, note, secs } from '../ingest/progress.ts';

/** The last full month of the seeded span (it ends 2025-12-31). */
export const MONTH = { label: '2025-11', first: '2025-11-01', last: '2025-11-30' };

export interface MonthTimes { verifyMs: number; differences: number; rebuildMs: number; rebuiltRows: number }

export async function timeMonth(rollups: Side): Promise<MonthTimes> {
  await rollups.pool.query('select fold_daily_sales_stats()');
  const verify = await timeQuery(rollups.pool, `select count(*) as n from verify_daily_sales_stats('${MONTH.first}', '${MONTH.last}')`);
  const rebuild = await timeQuery(rollups.pool, `select rebuild_daily_sales_stats('${MONTH.first}', '${MONTH.last}') as n`);
  const result = { verifyMs: verify.ms, differences: Number(verify.rows[0]!.n), rebuildMs: rebuild.ms, rebuiltRows: Number(rebuild.rows[0]!.n) };
  note(`(month ${MONTH.label}) verify ${secs(result.verifyMs)} (${result.differences} differences), rebuild ${secs(result.rebuildMs)} (${int(result.rebuiltRows)} rollup rows)`);
  return result;
}
