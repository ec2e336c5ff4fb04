import { Faker, en } from '@faker-js/faker';
import type { Random } from './random.ts';

/**
 * Names and contact details for the dimension tables, from faker seeded with
 * our seed: the same seed gives the same people and products.
 * `offset` numbers the rows after those already present (--append), which
 * keeps e-mail addresses unique.
 */
export function makeFaker(seed: number): Faker {
  return new Faker({ locale: [en], seed });
}

export function* agentRows(faker: Faker, count: number): Generator<string[]> {
  for (let i = 0; i < count; i++) yield [faker.person.fullName()];
}

export function* productRows(faker: Faker, random: Random, count: number): Generator<string[]> {
  for (let i = 0; i < count; i++) {
    // Log-uniform prices from 2 to 2,000: many cheap products, a few dear ones.
    const price = Math.exp(Math.log(2) + random.next() * (Math.log(2000) - Math.log(2)));
    yield [faker.commerce.productName(), price.toFixed(2)];
  }
}

export function* customerRows(faker: Faker, count: number, offset: number): Generator<string[]> {
  for (let i = 0; i < count; i++) {
    const first = faker.person.firstName();
    const last = faker.person.lastName();
    const email = `${first}.${last}.${offset + i + 1}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, '');
    yield [`${first} ${last}`, email, faker.phone.number({ style: 'international' })];
  }
}
