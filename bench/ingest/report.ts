/** The report: a Markdown table with the targets, and notes. */
import { type CaseResult, FOLD_INTERVAL_MS, type Maintenance, RATIO_TARGETS, type SideName, TARGETS } from './model.ts';
import { int, median, rate, secs } from './progress.ts';

export function newCase(key: string, title: string, bulk: boolean): CaseResult {
  return { key, title, bulk, runs: { baseline: [], rollups: [] } };
}

export function errorsOf(result: CaseResult): { deadlocks: number; serializationFailures: number } {
  const all = [...result.runs.baseline, ...result.runs.rollups];
  return {
    deadlocks: all.reduce((sum, run) => sum + run.deadlocks, 0),
    serializationFailures: all.reduce((sum, run) => sum + run.serializationFailures, 0),
  };
}

/** Rollups rows/s ÷ baseline rows/s, medians of the runs. */
export function caseRatio(result: CaseResult): number {
  return median(result.runs.rollups.map(rate)) / median(result.runs.baseline.map(rate));
}

export function tableRow(result: CaseResult): string {
  const baseline = median(result.runs.baseline.map(rate));
  const rollups = median(result.runs.rollups.map(rate));
  const ratio = caseRatio(result);
  let inclFold = '—';
  const wanted = RATIO_TARGETS[result.key];
  let target = wanted === undefined ? '—' : `>= ${wanted.toFixed(2)} ${ratio >= wanted ? '✓' : '✗'}`;
  if (result.bulk) {
    const [b, r] = [result.runs.baseline[0]!, result.runs.rollups[0]!];
    inclFold = (b.ms / (r.ms + r.postFoldMs)).toFixed(2);
  } else {
    const { deadlocks, serializationFailures } = errorsOf(result);
    target += `, 0 deadlocks / serialization failures ${deadlocks + serializationFailures === 0 ? '✓' : `✗ (${deadlocks} / ${serializationFailures})`}`;
  }
  return `| ${result.title} | ${int(baseline)} | ${int(rollups)} | ${ratio.toFixed(2)} | ${inclFold} | ${target} |`;
}

export function foldNote(result: CaseResult): string {
  const runs = result.runs.rollups;
  const calls = runs.flatMap((run) => run.folds);
  const busy = calls.filter((call) => call.folded > 0);
  const longest = Math.max(0, ...calls.map((call) => call.end - call.start));
  const after = result.bulk ? `; fold right after the case ${secs(runs[0]!.postFoldMs)}` : '';
  return `(${result.key}) background folds (rollups, ${runs.length} run${runs.length === 1 ? '' : 's'}): ${calls.length} calls, ${busy.length} with deltas, ` +
    `longest ${secs(longest)}${after}`;
}

export function printReport(header: string, results: CaseResult[], maintenance: Maintenance, final: { differences: number; sales: number }): void {
  const check = (ok: boolean) => (ok ? '✓' : '✗');
  const lines = [
    '',
    `## Ingest: baseline (no rollup triggers) vs rollups (full schema, fold every ${FOLD_INTERVAL_MS / 1000} s)`,
    '',
    header,
    '',
    '| case | baseline rows/s | rollups rows/s | ratio | ratio incl. fold | target |',
    '|---|---:|---:|---:|---:|---|',
    ...results.map(tableRow),
    '',
    'Notes:',
    `- ratio = rollups rows/s ÷ baseline rows/s (medians of the runs for c, d, c2); incl. fold (bulk cases) = baseline time ÷ (rollups time + the folding right after the case). (c) and (d) commit one row per statement, so their rows/s are commits/s.`,
    `- (f) at ${int(maintenance.sales)} sales: verify_daily_sales_stats() ${secs(maintenance.verifyMs)} (target < ${TARGETS.verifySeconds} s ${check(maintenance.verifyMs < TARGETS.verifySeconds * 1000)}, ${maintenance.verifyDifferences} differences); ` +
      `full rebuild_daily_sales_stats() ${secs(maintenance.rebuildMs)} (target < ${TARGETS.rebuildSeconds} s ${check(maintenance.rebuildMs < TARGETS.rebuildSeconds * 1000)}, ${int(maintenance.rebuiltRows)} rollup rows); ` +
      `fold after (a) ${secs(maintenance.foldAfterCopyMs)}.`,
    ...results.filter((r) => !r.bulk).map((r) => {
      const errors = (side: SideName) => `${r.runs[side].reduce((s, run) => s + run.deadlocks, 0)} / ${r.runs[side].reduce((s, run) => s + run.serializationFailures, 0)}`;
      const rates = (side: SideName) => r.runs[side].map((run) => int(rate(run))).join(', ');
      return `- (${r.key}) deadlocks (40P01) / serialization failures (40001): baseline ${errors('baseline')}, rollups ${errors('rollups')}; ` +
        `rows/s per run: baseline ${rates('baseline')}; rollups ${rates('rollups')}.`;
    }),
    ...results.map((r) => `- ${foldNote(r)}.`),
    `- verify after all cases: ${final.differences} differing rows over ${int(final.sales)} sales ${check(final.differences === 0)}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
