/** Bulk cases: (a) COPY, (b) INSERT ... SELECT, (e) UPDATE. */
import { copyCsvRows } from '../../src/seed/copy-rows.ts';
import { saleCsvLines, seed } from '../../src/seed/seeder.ts';
import { bulkTally, reportRun, timedRun, withClient } from './measure.ts';
import { type CaseResult, DIMENSIONS, type Entities, SALE_COLUMNS, type Side } from './model.ts';
import { int, note } from './progress.ts';
import { newCase } from './report.ts';

export async function caseCopy(sides: Side[], entities: Entities, rows: number): Promise<CaseResult> {
  note(`(a) generating ${int(rows)} sale lines (seeder distribution, ${DIMENSIONS.days} days)`);
  // Generated up front so the timing holds the database's work, not faker's or ours.
  const lines = Array.from(saleCsvLines({ ...DIMENSIONS, sales: rows }, entities));
  const result = newCase('a', `(a) COPY of ${int(rows)} sales`, true);
  for (const side of sides) {
    note(`(a) COPY into ${side.name}`);
    const run = await withClient(side, (client) =>
      timedRun(side, async () => bulkTally(await copyCsvRows(client, 'sales', SALE_COLUMNS, lines), 1)));
    result.runs[side.name].push(run);
    reportRun('a', side, run);
  }
  return result;
}

/**
 * The rows come from an unlogged staging table in each database, loaded from
 * the same generated lines before the clock starts; each batch is one
 * statement over a range of its row numbers.
 */
export async function caseInsertSelect(sides: Side[], entities: Entities, batches: number, batchRows: number): Promise<CaseResult> {
  const total = batches * batchRows;
  note(`(b) staging ${int(total)} rows in both databases`);
  for (const side of sides) {
    await side.pool.query(`create unlogged table bench_staging_sales (
      n bigint not null, customer_id bigint not null, product_id bigint not null, sales_agent_id bigint not null,
      price numeric(12, 2) not null, created_at timestamptz not null, updated_at timestamptz not null)`);
    // Another seed than (a)'s: other sales, the same distribution.
    const lines = saleCsvLines({ ...DIMENSIONS, seed: DIMENSIONS.seed + 1, sales: total }, entities);
    const numbered = (function* () {
      let n = 0;
      for (const line of lines) yield `${++n},${line}`;
    })();
    await withClient(side, (client) => copyCsvRows(client, 'bench_staging_sales', ['n', ...SALE_COLUMNS], numbered));
    await side.pool.query('create index on bench_staging_sales (n)');
    await side.pool.query('analyze bench_staging_sales');
  }

  const result = newCase('b', `(b) INSERT ... SELECT, ${batches} x ${int(batchRows)} rows`, true);
  const insert = `insert into sales (${SALE_COLUMNS.join(', ')})
    select ${SALE_COLUMNS.join(', ')} from bench_staging_sales where n between $1 and $2`;
  for (const side of sides) {
    note(`(b) ${batches} batches into ${side.name}`);
    const run = await withClient(side, (client) =>
      timedRun(side, async () => {
        let rows = 0;
        for (let batch = 0; batch < batches; batch++) {
          rows += (await client.query(insert, [batch * batchRows + 1, (batch + 1) * batchRows])).rowCount ?? 0;
        }
        return bulkTally(rows, batches);
      }));
    result.runs[side.name].push(run);
    reportRun('b', side, run);
  }
  for (const side of sides) await side.pool.query('drop table bench_staging_sales');
  return result;
}

/** One statement moving `rows` sales of (a) to another price and to the next agent. */
export async function caseUpdate(sides: Side[], entities: Entities, rows: number): Promise<CaseResult> {
  const firstIds = await Promise.all(sides.map(async (side) => (await side.pool.query<{ id: string }>('select min(id) as id from sales')).rows[0]!.id));
  if (new Set(firstIds).size !== 1) throw new Error(`the first sale ids differ: ${firstIds.join(' vs ')}`);
  const from = Number(firstIds[0]);
  const result = newCase('e', `(e) UPDATE of ${int(rows)} sales (price and agent)`, true);
  const update = `update sales
    set price = round(price * 1.1, 2),
        sales_agent_id = $3::bigint + (sales_agent_id - $3::bigint + 1) % $4::bigint
    where id between $1 and $2`;
  const params = [from, from + rows - 1, entities.agentIds[0], entities.agentIds.length];
  for (const side of sides) {
    note(`(e) UPDATE on ${side.name}`);
    const run = await withClient(side, (client) =>
      timedRun(side, async () => bulkTally((await client.query(update, params)).rowCount ?? 0, 1)));
    if (run.rows !== rows) throw new Error(`(e) updated ${run.rows} rows on ${side.name}, expected ${rows}`);
    result.runs[side.name].push(run);
    reportRun('e', side, run);
  }
  return result;
}
