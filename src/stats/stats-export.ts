import { Readable } from 'node:stream';
import type pg from 'pg';
import type { Db } from '../db/kysely.ts';
import { csvLine } from './csv.ts';
import type { DimensionInfo } from './dimensions.ts';
import { plainMoney } from './format.ts';
import { rowsSortedQuery, searchEntityIds, type StatsRow } from './stats.repository.ts';
import type { StatsQuery } from './stats-query.ts';
import { rangeFilter } from './stats.service.ts';

const BATCH = 2_000;

/**
 * Every row of the filtered range as CSV (all pages: a download is the whole
 * table), in the page's order, streamed from a server-side cursor: a year of
 * customers is millions of rows and never sits in memory.
 *
 * The cursor is opened and its first batch read before the stream exists, so
 * a query the database refuses is an error response with its status, not a
 * 200 cut off mid-file. A client that goes away (or a stream that is never
 * read) closes the cursor and frees the connection: the stream's close ends
 * the generator, whose finally rolls back.
 */
export async function tableCsv(pool: pg.Pool, db: Db, dimension: DimensionInfo, query: StatsQuery): Promise<Readable> {
  const ids = query.q === undefined ? undefined : await searchEntityIds(db, dimension, query.q);
  const compiled = rowsSortedQuery(rangeFilter(dimension, query, ids), query.sort, query.dir).compile(db);
  const header = csvLine(['day', `${dimension.dimension}_id`, `${dimension.dimension}_name`, 'sales_count', 'total_price']);
  const rows = cursorRows<StatsRow>(pool, compiled.sql, compiled.parameters as unknown[]);
  const first = await rows.next();
  const lines = (batch: StatsRow[]) => batch.map((row) => csvLine([row.day, row.entity_id, row.name, row.sales_count, plainMoney(row.total_price)])).join('');
  const stream = Readable.from((async function* () {
    yield header;
    if (first.done) return;
    yield lines(first.value);
    for (;;) {
      const next = await rows.next();
      if (next.done) return;
      yield lines(next.value);
    }
  })());
  stream.once('close', () => void rows.return(undefined).catch(() => {}));
  return stream;
}

/** One entity's series (already in memory: at most a year of days). */
export function seriesCsv(dimension: DimensionInfo, series: { id: string; name: string; days: { day: string; sales_count: string; total_price: string }[] }): string {
  return csvLine(['day', `${dimension.dimension}_id`, `${dimension.dimension}_name`, 'sales_count', 'total_price']) +
    series.days.map((d) => csvLine([d.day, series.id, series.name, d.sales_count, plainMoney(d.total_price)])).join('');
}

async function* cursorRows<T>(pool: pg.Pool, text: string, values: unknown[]): AsyncGenerator<T[]> {
  const client = await pool.connect();
  let broken = false;
  // Held between fetches while the client reads the file: a server that goes
  // away then (a replica stopped mid-download) makes pg emit 'error' on the
  // checked-out client, which pg-pool listens to only while idle, and an
  // unheard 'error' ends the process. Heard here, the next fetch fails instead.
  const lost = () => { broken = true; };
  client.on('error', lost);
  try {
    // One read-only snapshot for the whole file: its rows are mutually consistent.
    await client.query('begin isolation level repeatable read read only');
    await client.query(`declare stats_export no scroll cursor for ${text}`, values);
    for (;;) {
      const { rows } = await client.query<T & pg.QueryResultRow>(`fetch ${BATCH} from stats_export`);
      if (rows.length === 0) break;
      yield rows;
    }
    await client.query('commit');
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    // Early exit (client gone) lands here too: end the transaction before the connection goes back.
    await client.query('rollback').catch(() => { broken = true; });
    client.removeListener('error', lost);
    client.release(broken);
  }
}
