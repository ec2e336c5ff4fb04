/**
 * Grows a side's sales to a size, fast and resumably: the foreign keys and
 * secondary indexes are dropped first (their definitions recorded in
 * bench_scale_dropped) and built once at the end, the rows go in by COPY in
 * chunks of CHUNK_ROWS, each committed with the new count in
 * bench_scale_state, so an interrupted load continues at its last chunk.
 * The COPY skips the triggers (session_replication_role = replica: no
 * rollup deltas, no per-row foreign key checks); the rollups are rebuilt once
 * after the load.
 */
import pg from 'pg';
import { copyCsvRows } from '../../src/seed/copy-rows.ts';
import { saleCsvLines } from '../../src/seed/seeder.ts';
import { DAY_MS, DIMENSIONS, type Entities, SALE_COLUMNS, type Side } from '../ingest/model.ts';
import { int, note, secs } from '../ingest/progress.ts';

/** Rows per committed chunk: what an interruption can lose. */
export const CHUNK_ROWS = 1_000_000;
/** Chunk k's rows come from seed CHUNK_SEED + k: the same sales whatever the sizes asked for. */
const CHUNK_SEED = 10_000;

export interface LoadState { sales: number; maxId: number; rollupsExact: boolean }

export async function loadState(side: Side): Promise<LoadState> {
  const { rows } = await side.pool.query<{ sales: string; max_id: string; rollups_exact: boolean }>('select sales, max_id, rollups_exact from bench_scale_state');
  return { sales: Number(rows[0]!.sales), maxId: Number(rows[0]!.max_id), rollupsExact: rows[0]!.rollups_exact };
}

/**
 * Deletes the sales a measurement added (ids above the load's), through the
 * triggers, and folds: the side holds exactly its loaded sales again.
 */
export async function removeMeasurementSales(side: Side): Promise<number> {
  const { rowCount } = await side.pool.query('delete from sales where id > (select max_id from bench_scale_state)');
  if (side.rollups) await side.pool.query('select fold_daily_sales_stats()');
  return rowCount ?? 0;
}

export async function growSales(side: Side, size: number, entities: Entities): Promise<void> {
  const removed = await removeMeasurementSales(side);
  if (removed > 0) note(`${side.name}: removed ${int(removed)} sales left by an interrupted measurement`);
  let state = await loadState(side);
  if (state.sales > size) {
    throw new Error(`${side.name} holds ${int(state.sales)} sales, more than the size ${int(size)}: start --sizes at ${state.sales} or more, or run once with --drop`);
  }
  if (state.sales < size) {
    await dropKeysAndIndexes(side.pool);
    await side.pool.query('update bench_scale_state set rollups_exact = false');
    const firstDay = new Date(Date.parse(`${DIMENSIONS.endDay}T00:00:00Z`) - (DIMENSIONS.days - 1) * DAY_MS).toISOString().slice(0, 10);
    await side.pool.query('select create_sales_partitions($1::date, $2::date)', [firstDay, DIMENSIONS.endDay]);
    await copyChunks(side, state.sales, size, entities);
  }
  await restoreKeysAndIndexes(side);
  state = await loadState(side);
  if (!state.rollupsExact) {
    if (side.rollups) {
      note(`${side.name}: rebuilding the rollups of ${int(state.sales)} sales`);
      const started = performance.now();
      await side.pool.query('select rebuild_daily_sales_stats()');
      note(`${side.name}: rollups rebuilt in ${secs(performance.now() - started)}`);
    }
    await side.pool.query('update bench_scale_state set rollups_exact = true');
    await side.pool.query('vacuum (analyze)');
  }
}

async function copyChunks(side: Side, from: number, size: number, entities: Entities): Promise<void> {
  const started = performance.now();
  let lastLine = 0;
  const progress = (done: number) => {
    const now = performance.now();
    if (now - lastLine < 5_000 && done < size) return;
    lastLine = now;
    const perSecond = (done - from) / Math.max(0.001, (now - started) / 1000);
    const eta = perSecond > 0 ? (size - done) / perSecond : 0;
    note(`${side.name}: ${int(done)} / ${int(size)} sales (${Math.floor((100 * done) / size)}%), ${int(perSecond)} rows/s, ETA ${Math.floor(eta / 60)}:${String(Math.round(eta % 60)).padStart(2, '0')}`);
  };
  const client = await side.pool.connect();
  try {
    for (let done = from; done < size;) {
      const chunk = Math.floor(done / CHUNK_ROWS);
      const skip = done - chunk * CHUNK_ROWS;
      const rows = Math.min(CHUNK_ROWS - skip, size - done);
      const lines = saleCsvLines({ ...DIMENSIONS, seed: CHUNK_SEED + chunk, sales: skip + rows }, entities);
      for (let i = 0; i < skip; i++) lines.next(); // a partial chunk continues where it stopped
      await client.query('begin');
      try {
        await client.query('set local session_replication_role = replica');
        const base = done;
        await copyCsvRows(client, 'sales', SALE_COLUMNS, lines, (copied) => progress(base + copied));
        await client.query(`update bench_scale_state set sales = sales + $1, max_id = (select max(id) from sales)`, [rows]);
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
      done += rows;
    }
  } finally {
    client.release();
  }
  const seconds = (performance.now() - started) / 1000;
  note(`${side.name}: loaded ${int(size - from)} sales in ${seconds.toFixed(1)} s = ${int((size - from) / seconds)} rows/s (COPY, no keys or indexes)`);
}

/** Records, then drops, the foreign keys and the indexes of sales that back no constraint. */
async function dropKeysAndIndexes(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ name: string; definition: string; kind: string }>(`
      select conname as name, format('alter table sales add constraint %I %s', conname, pg_get_constraintdef(oid)) as definition, 'constraint' as kind
      from pg_constraint where conrelid = 'sales'::regclass and contype = 'f'
      union all
      -- A partitioned index's definition says ON ONLY; built again it must cover the partitions.
      select i.relname, replace(pg_get_indexdef(i.oid), ' ON ONLY ', ' ON '), 'index'
      from pg_index x join pg_class i on i.oid = x.indexrelid
      where x.indrelid = 'sales'::regclass and not exists (select from pg_constraint c where c.conindid = x.indexrelid)`);
    for (const row of rows) {
      await client.query('insert into bench_scale_dropped (name, definition) values ($1, $2) on conflict do nothing', [row.name, row.definition]);
      await client.query(row.kind === 'index' ? `drop index ${pg.escapeIdentifier(row.name)}` : `alter table sales drop constraint ${pg.escapeIdentifier(row.name)}`);
    }
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/** Builds back what dropKeysAndIndexes dropped, one at a time (each forgotten once built). */
async function restoreKeysAndIndexes(side: Side): Promise<void> {
  const { rows } = await side.pool.query<{ name: string; definition: string }>('select name, definition from bench_scale_dropped order by drop_order');
  for (const row of rows) {
    const started = performance.now();
    await side.pool.query(row.definition);
    await side.pool.query('delete from bench_scale_dropped where name = $1', [row.name]);
    note(`${side.name}: ${row.name} built in ${secs(performance.now() - started)}`);
  }
}
