/** Every ingest case in order, each after a settle: bench:ingest's sequence, also run by bench:scale at each size. */
import { caseCopy, caseInsertSelect, caseUpdate } from './bulk-cases.ts';
import { type ConcurrentCase, caseConcurrent, hotSales, spreadSales } from './concurrent-cases.ts';
import { settle } from './measure.ts';
import { type BenchOptions, CONCURRENCY, type CaseResult, type Entities, FULL, ROWS_PER_MULTI_ROW_INSERT, type Side } from './model.ts';
import { scaled } from './progress.ts';

export const CONCURRENT_CASES: ConcurrentCase[] = [
  { key: 'c', title: `(c) single-row INSERTs, ${CONCURRENCY} connections, spread keys`, rowsPerStatement: 1, keys: spreadSales },
  { key: 'd', title: `(d) single-row INSERTs, ${CONCURRENCY} connections, one hot key`, rowsPerStatement: 1, keys: hotSales },
  { key: 'c2', title: `(c2) ${ROWS_PER_MULTI_ROW_INSERT}-row INSERTs, ${CONCURRENCY} connections, spread keys`, rowsPerStatement: ROWS_PER_MULTI_ROW_INSERT, keys: spreadSales },
];

/**
 * (a), (b), (c), (d), (c2), (e) on both sides. `afterCopy` runs right after
 * (a), settled, before (b) (bench:ingest measures verify and rebuild there).
 */
export async function runIngestCases(
  sides: Side[], entities: Entities, options: BenchOptions, afterCopy: (copy: CaseResult) => Promise<void> = async () => {},
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  await settle(sides);
  const copy = await caseCopy(sides, entities, scaled(FULL.copyRows, options.scale));
  results.push(copy);
  await settle(sides);
  await afterCopy(copy);
  await settle(sides);
  results.push(await caseInsertSelect(sides, entities, FULL.insertSelectBatches, scaled(FULL.insertSelectRows, options.scale)));
  for (const spec of CONCURRENT_CASES) {
    await settle(sides);
    results.push(await caseConcurrent(sides, entities, spec, options));
  }
  await settle(sides);
  results.push(await caseUpdate(sides, entities, scaled(FULL.updateRows, options.scale)));
  return results;
}
