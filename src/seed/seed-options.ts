import type { SeedOptions } from './seeder.ts';

/** The demo data set `make start` loads into an empty database. */
export function demoSeedOptions(sales: number, today = new Date()): SeedOptions {
  return {
    sales,
    agents: 25,
    products: 400,
    customers: Math.max(100, Math.round(sales / 20)),
    days: 120,
    seed: 42,
    endDay: today.toISOString().slice(0, 10),
    append: false,
  };
}
