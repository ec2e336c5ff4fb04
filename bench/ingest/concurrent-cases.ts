/** Concurrent cases: (c) spread single rows, (d) hot-key single rows, (c2) 100-row statements. */
import pg from 'pg';
import { SqlState } from '../../src/db/sqlstate.ts';
import { seededRandom, type Random } from '../../src/seed/random.ts';
import { reportRun, timedRun } from './measure.ts';
import { type BenchOptions, CONCURRENCY, type CaseResult, DAY_MS, DIMENSIONS, type Entities, MAX_STATEMENTS_PER_WORKER, type Side, type Tally } from './model.ts';
import { int, note } from './progress.ts';
import { newCase } from './report.ts';

export type SaleRow = [customerId: string, productId: string, agentId: string, price: string, createdAt: string];

/** Uniformly random keys over every entity and every day of the span. */
export function spreadSales(entities: Entities, random: Random): () => SaleRow {
  const firstDayMs = Date.parse(`${DIMENSIONS.endDay}T00:00:00Z`) - (DIMENSIONS.days - 1) * DAY_MS;
  const pick = (ids: string[]) => ids[random.int(0, ids.length - 1)]!;
  return () => {
    const product = random.int(0, entities.productIds.length - 1);
    const at = firstDayMs + random.int(0, DIMENSIONS.days - 1) * DAY_MS + random.int(0, DAY_MS - 1);
    return [pick(entities.customerIds), entities.productIds[product]!, pick(entities.agentIds),
      entities.productPrices[product]!, new Date(at).toISOString()];
  };
}

/** One agent, one product, one customer, one day: every writer on the same rollup keys. */
export function hotSales(entities: Entities, random: Random): () => SaleRow {
  const dayMs = Date.parse(`${DIMENSIONS.endDay}T00:00:00Z`);
  return () => [entities.customerIds[0]!, entities.productIds[0]!, entities.agentIds[0]!, entities.productPrices[0]!,
    new Date(dayMs + random.int(0, DAY_MS - 1)).toISOString()];
}

export const INSERT_ONE = {
  name: 'bench_insert_one',
  text: `insert into sales (customer_id, product_id, sales_agent_id, price, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)`,
};
export const INSERT_MANY = {
  name: 'bench_insert_many',
  text: `insert into sales (customer_id, product_id, sales_agent_id, price, created_at, updated_at)
         select c, p, a, price, at, at
         from unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::numeric[], $5::timestamptz[]) as r(c, p, a, price, at)`,
};

/** Column arrays for INSERT_MANY. */
export function columns(rows: SaleRow[]): string[][] {
  return [0, 1, 2, 3, 4].map((i) => rows.map((row) => row[i]!));
}

/**
 * One connection's autocommit inserts until the deadline. Deadlocks and
 * serialization failures are counted (the design says there are none) and
 * the worker goes on; any other error ends the benchmark.
 */
export async function insertUntil(client: pg.Client, next: () => SaleRow, rowsPerStatement: number, deadline: number, tally: Tally): Promise<void> {
  for (let i = 0; i < MAX_STATEMENTS_PER_WORKER && performance.now() < deadline; i++) {
    const rows = Array.from({ length: rowsPerStatement }, next);
    try {
      if (rowsPerStatement === 1) await client.query({ ...INSERT_ONE, values: rows[0] });
      else await client.query({ ...INSERT_MANY, values: columns(rows) });
      tally.rows += rows.length;
      tally.statements++;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === SqlState.deadlockDetected) tally.deadlocks++;
      else if (code === SqlState.serializationFailure) tally.serializationFailures++;
      else throw error;
    }
  }
}

export interface ConcurrentCase {
  key: string;
  title: string;
  rowsPerStatement: number;
  keys: (entities: Entities, random: Random) => () => SaleRow;
}

/**
 * --repeat rounds of baseline then rollups. Worker w of round r draws from
 * the same seeded stream on both sides, so both get the same keys in the same
 * order (as far as each gets in the time).
 */
export async function caseConcurrent(sides: Side[], entities: Entities, spec: ConcurrentCase, options: BenchOptions): Promise<CaseResult> {
  const result = newCase(spec.key, spec.title, false);
  const unit = spec.rowsPerStatement === 1 ? 'commits' : 'rows';
  for (let round = 0; round < options.repeat; round++) {
    for (const side of sides) {
      note(`(${spec.key}) ${side.name}, run ${round + 1}/${options.repeat}: ${CONCURRENCY} connections for ${options.seconds} s`);
      const clients = await openClients(side.url, CONCURRENCY);
      try {
        const run = await timedRun(side, async () => {
          const tally: Tally = { rows: 0, statements: 0, deadlocks: 0, serializationFailures: 0 };
          const deadline = performance.now() + options.seconds * 1000;
          await Promise.all(clients.map((client, worker) =>
            insertUntil(client, spec.keys(entities, seededRandom(1_000 + round * 100 + worker)), spec.rowsPerStatement, deadline, tally)));
          return tally;
        });
        result.runs[side.name].push(run);
        reportRun(spec.key, side, run, unit);
      } finally {
        await Promise.all(clients.map((client) => client.end()));
      }
    }
  }
  return result;
}

/** Connections opened before the clock starts, one per worker. */
export async function openClients(url: string, count: number): Promise<pg.Client[]> {
  const clients = Array.from({ length: count }, () => new pg.Client({ connectionString: url }));
  for (const client of clients) client.on('error', () => {});
  await Promise.all(clients.map((client) => client.connect()));
  return clients;
}
