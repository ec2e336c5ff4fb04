import type pg from 'pg';
import { copyCsvRows, csvField } from './copy-rows.ts';
import { agentRows, customerRows, makeFaker, productRows } from './demo-entities.ts';
import { seededRandom, weightedSampler, zipfWeights, type Random } from './random.ts';

export interface SeedOptions {
  sales: number;
  agents: number;
  products: number;
  customers: number;
  days: number;
  seed: number;
  /** The last day of sales, YYYY-MM-DD (UTC); sales span `days` days up to it. */
  endDay: string;
  append: boolean;
}

export interface SeedProgress {
  table: string;
  done: number;
  total: number;
}

export class DatabaseNotEmptyError extends Error {}

const DAY_MS = 86_400_000;

/**
 * Loads a realistic data set through COPY: skewed popularity (Zipf) for
 * agents, products and customers, prices from the product list, weekday-heavy
 * days with a growth trend, business-hours-heavy times. Deterministic for a
 * given seed and end day. One transaction: a failed seed leaves nothing.
 */
export async function seed(pool: pg.Pool, options: SeedOptions, onProgress: (progress: SeedProgress) => void): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const existing = await countRows(client);
    if (!options.append && Object.values(existing).some((count) => count > 0)) {
      throw new DatabaseNotEmptyError(
        `the database already has data (${existing.sales} sales, ${existing.customers} customers, ` +
          `${existing.products} products, ${existing.sales_agents} agents); pass --append to add to it`,
      );
    }
    const faker = makeFaker(options.seed);
    const random = seededRandom(options.seed);
    const progress = (table: string, total: number) => (done: number) => onProgress({ table, done, total });

    const agentIds = await copyEntities(client, 'sales_agents', ['name'], agentRows(faker, options.agents), progress('sales_agents', options.agents));
    const productIds = await copyEntities(client, 'products', ['name', 'price'], productRows(faker, random, options.products), progress('products', options.products));
    const customerIds = await copyEntities(
      client, 'customers', ['name', 'email', 'telephone'],
      customerRows(faker, options.customers, existing.customers), progress('customers', options.customers),
    );
    const { rows: priceRows } = await client.query<{ id: string; price: string }>(
      'select id, price from products where id = any($1::bigint[]) order by id', [productIds],
    );
    const productPrices = priceRows.map((row) => row.price);

    // The months of the span get their partitions first: otherwise every row
    // lands in the default partition (sql/045).
    const firstDay = new Date(Date.parse(`${options.endDay}T00:00:00Z`) - (options.days - 1) * DAY_MS).toISOString().slice(0, 10);
    await client.query('select create_sales_partitions($1::date, $2::date)', [firstDay, options.endDay]);

    await copyCsvRows(
      client, 'sales', ['customer_id', 'product_id', 'sales_agent_id', 'price', 'created_at', 'updated_at'],
      saleLines(options, random, { agentIds, productIds, productPrices, customerIds }),
      progress('sales', options.sales),
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

async function countRows(client: pg.PoolClient) {
  const { rows } = await client.query<Record<'sales' | 'customers' | 'products' | 'sales_agents', string>>(
    `select (select count(*) from sales) as sales, (select count(*) from customers) as customers,
            (select count(*) from products) as products, (select count(*) from sales_agents) as sales_agents`,
  );
  const row = rows[0]!;
  return {
    sales: Number(row.sales), customers: Number(row.customers),
    products: Number(row.products), sales_agents: Number(row.sales_agents),
  };
}

/** COPYs the rows and returns the ids they were given, in insertion order. */
async function copyEntities(
  client: pg.PoolClient, table: string, columns: string[], rows: Iterable<string[]>, onProgress: (done: number) => void,
): Promise<string[]> {
  const { rows: before } = await client.query<{ max: string | null }>(`select max(id) as max from ${table}`);
  const lines = (function* () {
    for (const row of rows) yield row.map(csvField).join(',');
  })();
  await copyCsvRows(client, table, columns, lines, onProgress);
  const { rows: ids } = await client.query<{ id: string }>(
    `select id from ${table} where id > $1 order by id`, [before[0]?.max ?? 0],
  );
  return ids.map((row) => row.id);
}

interface Entities {
  agentIds: string[];
  productIds: string[];
  productPrices: string[];
  customerIds: string[];
}

/**
 * Sale lines as seed() writes them (CSV: customer_id, product_id,
 * sales_agent_id, price, created_at, updated_at), for entities already in a
 * database: bench/ingest.ts feeds the same bytes to two databases. The random
 * stream starts afresh from options.seed (seed() first spends some of it on
 * product prices), so the sales follow seed()'s distribution, not its exact rows.
 */
export function saleCsvLines(
  options: Pick<SeedOptions, 'sales' | 'days' | 'seed' | 'endDay'>, entities: Entities,
): Generator<string> {
  return saleLines(options, seededRandom(options.seed), entities);
}

function* saleLines(options: Pick<SeedOptions, 'sales' | 'days' | 'endDay'>, random: Random, entities: Entities): Generator<string> {
  const pickAgent = weightedSampler(zipfWeights(entities.agentIds.length, 1.1, random), random);
  const pickProduct = weightedSampler(zipfWeights(entities.productIds.length, 1.0, random), random);
  const pickCustomer = weightedSampler(zipfWeights(entities.customerIds.length, 0.8, random), random);
  const firstDayMs = Date.parse(`${options.endDay}T00:00:00Z`) - (options.days - 1) * DAY_MS;
  const pickDay = weightedSampler(dayWeights(firstDayMs, options.days), random);
  const pickHour = weightedSampler(HOUR_WEIGHTS, random);

  for (let i = 0; i < options.sales; i++) {
    const product = pickProduct();
    const at = firstDayMs + pickDay() * DAY_MS + pickHour() * 3_600_000 + random.int(0, 3_599_999);
    const timestamp = new Date(at).toISOString();
    yield `${entities.customerIds[pickCustomer()]},${entities.productIds[product]},${entities.agentIds[pickAgent()]},` +
      `${entities.productPrices[product]},${timestamp},${timestamp}`;
  }
}

/** Weekends sell 60 % of a weekday, and the business grows by half over the span. */
function dayWeights(firstDayMs: number, days: number): Float64Array {
  const weights = new Float64Array(days);
  for (let day = 0; day < days; day++) {
    const weekday = new Date(firstDayMs + day * DAY_MS).getUTCDay();
    weights[day] = (weekday === 0 || weekday === 6 ? 0.6 : 1) * (1 + (0.5 * day) / Math.max(1, days - 1));
  }
  return weights;
}

/** Relative sales per hour of the day (UTC): quiet nights, busy late mornings and evenings. */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 2, 4, 6, 8, 9, 8, 7, 7, 7, 7, 8, 9, 9, 7, 5, 3, 2];
