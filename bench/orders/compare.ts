/**
 * `--compare 1/1,2/2,2/4,2/2+pgbouncer --rounds R`: each deployment run
 * alternately with the 1/1 direct baseline (baseline, A, baseline, B, …,
 * R rounds), every run on a fresh bench database with its own warm-up, then
 * phase 2 (as fast as possible) alone. Alternating spreads the machine's
 * drift (other people's work, thermal, caches) over baseline and candidate
 * alike, so the ratio of their medians says more than either figure.
 */
import { deploymentLabel, UsageError, type BenchOptions, type Deployment } from './model.ts';
import { note } from './progress.ts';
import type { Report } from './report.ts';

export const BASELINE: Deployment = { web: 1, workers: 1, viaPgBouncer: false };
/** The issue's comparison. */
export const DEFAULT_COMPARISON = '1/1,2/2,2/4,2/2+pgbouncer';
export const COMPARE_DEFAULT_ORDERS = 1_000;

/** "2/4" or "2/2+pgbouncer": web processes / worker processes, optionally through PgBouncer. */
export function parseDeployments(list: string): Deployment[] {
  const deployments = list.split(',').map((item) => {
    const match = /^\s*(\d{1,2})\/(\d{1,2})(\+pgbouncer)?\s*$/.exec(item);
    const [web, workers] = [Number(match?.[1]), Number(match?.[2])];
    if (!match || web < 1 || web > 16 || workers < 1 || workers > 16) {
      throw new UsageError(`--compare takes a list of WEB/WORKERS (1 to 16 each), optionally +pgbouncer, such as ${DEFAULT_COMPARISON}; not "${item}"`);
    }
    return { web, workers, viaPgBouncer: match[3] !== undefined };
  });
  return deployments;
}

export interface CompareRun {
  deployment: Deployment;
  baseline: boolean;
  round: number;
  /** Phase 2's completed orders per second (overall: first payment to last e-mail). */
  ordersPerSecond: number;
  /** Phase 2's pay → invoice e-mail in the mailbox, p99 ms. */
  payToEmailP99: number;
  /** The shoppers' checkout request (POST /shop/checkout to its 303), client side, p99 ms. */
  checkoutP99: number;
  orders: number;
  completed: number;
  lost: number;
  duplicated: number;
  /** Every check of the run passed (warm-up and phase 2). */
  ok: boolean;
}

/** One run of the benchmark with these options; the caller opens and closes the database server around all of them. */
export type RunOnce = (options: BenchOptions) => Promise<Report>;

/** A run that ended in an error instead of a report. */
export interface FailedRun {
  deployment: Deployment;
  baseline: boolean;
  round: number;
  message: string;
}

export async function compareDeployments(options: BenchOptions, runOnce: RunOnce, signal: AbortSignal): Promise<{ runs: CompareRun[]; failures: FailedRun[] }> {
  const candidates = options.compare!;
  const runs: CompareRun[] = [];
  const failures: FailedRun[] = [];
  const total = options.rounds * candidates.length * 2;
  for (let round = 1; round <= options.rounds && !signal.aborted; round++) {
    for (const candidate of candidates) {
      for (const [deployment, baseline] of [[BASELINE, true], [candidate, false]] as const) {
        if (signal.aborted) break;
        const logFile = options.logFile.replace(/(\.log)?$/, `-run-${runs.length + failures.length + 1}.log`);
        note(`compare: run ${runs.length + failures.length + 1} of ${total}, round ${round}: ${baseline ? `baseline ${deploymentLabel(deployment)}` : deploymentLabel(deployment)}; logs in ${logFile}`);
        // Phase 2 takes half of --orders in a normal run (phase 1 the other half): twice as many gives it all of them.
        let report: Report;
        try {
          report = await runOnce({ ...options, deployment, compare: undefined, phases: new Set([2]), orders: options.orders * 2, logFile });
        } catch (error) {
          // One run's failure (the server out of connections, a process that would not start) is reported, and the comparison goes on.
          const message = (error as Error)?.message ?? String(error);
          note(`compare: ${deploymentLabel(deployment)}: the run failed: ${message}`);
          failures.push({ deployment, baseline, round, message });
          continue;
        }
        // A run cut short by Ctrl-C measured nothing whole.
        if (signal.aborted) break;
        const run = summariseRun(report, deployment, baseline, round);
        runs.push(run);
        note(`compare: ${deploymentLabel(deployment)}: ${run.ordersPerSecond.toFixed(1)} orders/s, pay → e-mail p99 ${Math.round(run.payToEmailP99)} ms, ` +
          `${run.completed} / ${run.orders} completed, ${run.lost} lost, ${run.duplicated} duplicated${run.ok ? '' : ' (a check failed: see the log above)'}`);
      }
    }
  }
  return { runs, failures };
}

function summariseRun(report: Report, deployment: Deployment, baseline: boolean, round: number): CompareRun {
  const afap = report.afap;
  const checks = [report.warmUp?.verification, afap?.verification].filter((v) => v !== undefined);
  return {
    deployment, baseline, round,
    ordersPerSecond: afap?.result.completedPerSecond ?? 0,
    payToEmailP99: afap?.result.payToEmail.p99 ?? 0,
    checkoutP99: afap?.result.checkout.latency.p99 ?? 0,
    orders: afap?.result.orders ?? 0,
    completed: afap?.result.completed ?? 0,
    lost: checks.reduce((sum, v) => sum + v.lost, 0),
    duplicated: checks.reduce((sum, v) => sum + v.duplicated, 0),
    ok: afap !== undefined && checks.every((v) => v.ok),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The Markdown table: one row for the baseline (all its runs), one per candidate; medians over the rounds. */
export function comparisonLines(runs: readonly CompareRun[], failures: readonly FailedRun[], options: BenchOptions, header: string): string[] {
  const baseline = runs.filter((run) => run.baseline);
  const base = median(baseline.map((run) => run.ordersPerSecond));
  const rows: { label: string; runs: CompareRun[] }[] = [
    { label: `${deploymentLabel(BASELINE)} direct (baseline, every other run)`, runs: baseline },
    ...options.compare!.map((deployment) => ({
      label: deploymentLabel(deployment) + (deployment.viaPgBouncer ? '' : ' direct'),
      runs: runs.filter((run) => !run.baseline && sameDeployment(run.deployment, deployment)),
    })),
  ];
  const lines = [
    '', '## Order workflow by deployment: web processes / worker processes, phase 2 (as fast as possible)', '', header, '',
    '| configuration | runs | phase-2 orders/s (median; min–max) | × baseline (median ÷ baseline median) | pay → e-mail p99 ms (median) | checkout p99 ms (median) | lost | duplicated |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    if (row.runs.length === 0) {
      lines.push(`| ${row.label} | 0 | — | — | — | — | — | — |`);
      continue;
    }
    const rates = row.runs.map((run) => run.ordersPerSecond);
    const rate = median(rates);
    lines.push(`| ${row.label} | ${row.runs.length} | ${rate.toFixed(1)}; ${Math.min(...rates).toFixed(1)}–${Math.max(...rates).toFixed(1)} | ` +
      `${base > 0 ? `${(rate / base).toFixed(2)}×` : '—'} | ${Math.round(median(row.runs.map((run) => run.payToEmailP99))).toLocaleString('en')} | ` +
      `${Math.round(median(row.runs.map((run) => run.checkoutP99))).toLocaleString('en')} | ${sum(row.runs, 'lost')} | ${sum(row.runs, 'duplicated')} |`);
  }
  const failed = runs.filter((run) => !run.ok);
  lines.push('',
    'Orders/s: phase 2\'s completed orders ÷ (last invoice e-mail − first payment), all payments at once with --in-flight in flight. ' +
    'p99 pay → e-mail: an order\'s completion latency, from its payment at the gateway to its invoice e-mail in the mailbox (under a backlog of every order paid at once, so it grows with --orders). ' +
    'Checkout p99: the shopper\'s POST /shop/checkout to its 303, timed by the client, made before the payments. ' +
    'Lost and duplicated: summed over the configuration\'s runs (warm-up and phase 2; paid once, one invoice, one e-mail each).',
    failed.length === 0 ? 'Every check passed in every run (gapless invoice numbers, sales rows = units sold).' : `${failed.length} runs had a failed check (see the progress on stderr).`, '');
  if (failures.length > 0) {
    lines.push(`${failures.length} run${failures.length === 1 ? '' : 's'} ended in an error, measured nothing and ${failures.length === 1 ? 'is' : 'are'} left out of the table:`);
    for (const failure of failures) lines.push(`- round ${failure.round}, ${failure.baseline ? 'baseline ' : ''}${deploymentLabel(failure.deployment)}: ${failure.message}`);
    lines.push('');
  }
  return lines;
}

function sameDeployment(a: Deployment, b: Deployment): boolean {
  return a.web === b.web && a.workers === b.workers && a.viaPgBouncer === b.viaPgBouncer;
}

function sum(runs: readonly CompareRun[], key: 'lost' | 'duplicated'): number {
  return runs.reduce((total, run) => total + run[key], 0);
}
