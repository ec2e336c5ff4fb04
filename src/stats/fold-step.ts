/** What a fold step needs: a pg Pool or Client, outside any transaction (VACUUM cannot run in one). */
export interface Queryable {
  query<R extends object>(text: string): Promise<{ rows: R[] }>;
}

/** Dead pending rows after which a fold step vacuums the pending table. */
const VACUUM_AFTER_FOLDED_DELTAS = 20_000;

/**
 * One step of the service's fold: fold_daily_sales_stats(), the slide of the
 * 30-day ranking window when today has moved, and, once enough
 * deltas have been folded away, a VACUUM of daily_sales_stats_pending.
 *
 * Why vacuum here: every fold leaves the rows it moved behind as dead tuples,
 * and under steady writes autovacuum (a minute's nap, one worker busy with
 * the big tables) lets them pile up into hundreds of thousands, which every
 * fold and every page read then scans. Vacuuming a table of a few pages is
 * cheap and takes no lock that writers wait for.
 */
export function createFoldStep(db: Queryable): () => Promise<number> {
  let foldedSinceVacuum = 0;
  return async () => {
    const { rows } = await db.query<{ folded: string }>('select fold_daily_sales_stats() as folded');
    const folded = Number(rows[0]?.folded ?? 0);
    // The 30-day ranking window follows today (sql/065): a no-op read except once a day.
    await db.query(`select slide_period_sales_stats_window((now() at time zone stats_time_zone())::date)`);
    foldedSinceVacuum += folded;
    if (foldedSinceVacuum >= VACUUM_AFTER_FOLDED_DELTAS) {
      await db.query('vacuum (skip_locked) daily_sales_stats_pending');
      foldedSinceVacuum = 0;
    }
    return folded;
  };
}
