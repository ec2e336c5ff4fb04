/** bench:scale's report: each size's figures, and every figure against its value at the first size. */
import { type CaseResult, RATIO_TARGETS } from '../ingest/model.ts';
import { int } from '../ingest/progress.ts';
import { caseRatio, tableRow } from '../ingest/report.ts';
import { type Latency } from '../shared/http-load.ts';
import { type Disk } from './disk.ts';
import { type MonthTimes } from './month.ts';
import { type Sustained } from './sustain.ts';

export interface SizeResult {
  size: number;
  ingest: CaseResult[];
  sustained: Sustained;
  month: MonthTimes;
  pages: Record<string, Latency>;
  disk: Disk;
  differences: number;
}

interface Figure { name: string; unit: string; value: (r: SizeResult) => number; better: 'higher' | 'lower' }

function figures(first: SizeResult): Figure[] {
  return [
    ...first.ingest.map((c): Figure => ({ name: `ingest ${c.key} ratio (target >= ${RATIO_TARGETS[c.key]?.toFixed(2) ?? '—'})`, unit: '', better: 'higher',
      value: (r) => caseRatio(r.ingest.find((x) => x.key === c.key)!) })),
    { name: 'fold, deltas/s under (c)', unit: '/s', better: 'higher', value: (r) => r.sustained.foldedPerSecond },
    { name: 'fold, deltas/s while busy', unit: '/s', better: 'higher', value: (r) => r.sustained.foldCapacity },
    { name: 'peak pending rows under (c)', unit: '', better: 'lower', value: (r) => r.sustained.maxPending },
    { name: 'verify one month (target < 5 s)', unit: ' ms', better: 'lower', value: (r) => r.month.verifyMs },
    { name: 'rebuild one month (target < 10 s)', unit: ' ms', better: 'lower', value: (r) => r.month.rebuildMs },
    { name: 'rebuild one month, its daily rows deleted', unit: ' ms', better: 'lower', value: (r) => r.month.refillMs },
    ...Object.keys(first.pages).flatMap((page): Figure[] => [
      { name: `${page} p50`, unit: ' ms', better: 'lower', value: (r) => r.pages[page]!.p50 },
      { name: `${page} p99 (target <= 1.3x)`, unit: ' ms', better: 'lower', value: (r) => r.pages[page]!.p99 },
      { name: `${page} server p99`, unit: ' ms', better: 'lower', value: (r) => r.pages[page]!.serverP99 ?? 0 },
      { name: `${page} req/s`, unit: '', better: 'higher', value: (r) => r.pages[page]!.rps },
    ]),
    { name: 'disk per sale: sales', unit: ' B', better: 'lower', value: (r) => r.disk.salesBytes / r.disk.sales },
    { name: 'disk per sale: folded', unit: ' B', better: 'lower', value: (r) => r.disk.foldedBytes / r.disk.sales },
    { name: 'disk per sale: pending', unit: ' B', better: 'lower', value: (r) => r.disk.pendingBytes / r.disk.sales },
  ];
}

const show = (n: number) => (Math.abs(n) < 10 ? n.toFixed(2) : int(n));

/** One size's section: the ingest table, the pending rows over time, the month, the disk. */
export function sizeSection(r: SizeResult): string {
  const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
  return [
    '', `## ${int(r.size)} sales`, '',
    '| case | baseline rows/s | rollups rows/s | ratio | ratio incl. fold | target |',
    '|---|---:|---:|---:|---:|---|',
    ...r.ingest.map(tableRow),
    '',
    `- fold under (c)'s writers for ${r.sustained.seconds.toFixed(0)} s: ${int(r.sustained.writesPerSecond)} commits/s, ${int(r.sustained.foldedPerSecond)} deltas/s folded ` +
      `(${int(r.sustained.foldCapacity)}/s while busy); pending rows ${r.sustained.bounded ? 'bounded ✓' : 'growing ✗'}: ` +
      r.sustained.samples.map((s) => `${s.second} s ${int(s.pending)}`).join(', '),
    `- month 2025-11: verify ${(r.month.verifyMs / 1000).toFixed(2)} s (${r.month.differences} differences), rebuild ${(r.month.rebuildMs / 1000).toFixed(2)} s (${int(r.month.rebuiltRows)} rows corrected), `
      + `rebuild with its daily rows deleted ${(r.month.refillMs / 1000).toFixed(2)} s (${int(r.month.refilledRows)} rows written)`,
    `- disk: sales ${mb(r.disk.salesBytes)}, folded ${mb(r.disk.foldedBytes)}, pending ${mb(r.disk.pendingBytes)}; ` +
      `${int((r.disk.salesBytes + r.disk.foldedBytes + r.disk.pendingBytes) / r.disk.sales)} bytes per sale in all`,
    `- rollup differences after the ingest cases and at the end: ${r.differences} ${r.differences === 0 ? '✓' : '✗'}`,
    '',
  ].join('\n');
}

/** The curve: every figure at every size, with its ratio to the first size. */
export function curveTable(results: SizeResult[]): string {
  const first = results[0]!;
  const lines = [
    '', '## The curve (each figure, and in brackets its ratio to the first size)', '',
    `| figure | ${results.map((r) => `${int(r.size)} sales`).join(' | ')} |`,
    `|---|${results.map(() => '---:').join('|')}|`,
  ];
  for (const figure of figures(first)) {
    const base = figure.value(first);
    const cells = results.map((r, i) => {
      const value = figure.value(r);
      return i === 0 ? `${show(value)}${figure.unit}` : `${show(value)}${figure.unit} (${base === 0 ? '—' : (value / base).toFixed(2)}x)`;
    });
    lines.push(`| ${figure.name} (${figure.better} is better) | ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
