/** The report on stdout: the figures beside their targets, the stages, the queues, and the checks. */
import { COMPONENTS, type CpuUsage } from './cpu.ts';
import { SUPPLIER_FAIL_RATE as SUPPLIER_FAIL_RATE_LABEL, TARGETS, type QueueSample, type Verification } from './model.ts';
import { sparkline } from './queue-depth.ts';
import { distribution, ms, pair, perSecond } from './stats.ts';
import type { PhaseOutput, WarmUpOutput } from './workflow-phases.ts';
import type { WebhookPhaseOutput } from './webhook-phase.ts';
import type { BacklogPhaseOutput } from './backlog-phase.ts';
import type { DeliveryPhaseOutput } from './delivery-phase.ts';
import { deliveryLines } from './delivery-report.ts';

export interface Report {
  header: string;
  /** Said below the header: phases skipped, the machine's load. */
  notes: string[];
  /** The warm-up: how many orders, and the check of them (it reports nothing else). */
  warmUp?: WarmUpOutput;
  fixed?: PhaseOutput;
  afap?: PhaseOutput;
  webhooks?: WebhookPhaseOutput;
  backlog?: BacklogPhaseOutput;
  delivery?: DeliveryPhaseOutput;
  /** With --count-queries: the workers' statements over the whole run (summed over --workers M). */
  workerQueries?: Record<string, number>;
  /** With --count-queries and --web N: the web processes' statements over the whole run (summed). */
  webProcessQueries?: Record<string, number>;
}

const check = (ok: boolean) => (ok ? '✓' : '✗');
const ratio = (value: number, target: number) => `${(value / target).toFixed(2)}×`;

export function printReport(report: Report): void {
  const { fixed, afap, webhooks, backlog, delivery } = report;
  const workflow = [fixed, afap].filter((phase): phase is PhaseOutput => phase !== undefined);
  const lines: string[] = ['', `## Order workflow: checkout → payment → webhook → worker → invoice PDF → e-mail${delivery ? ' (phase 6: → supplier → delivered, its e-mails)' : ''}`, '', report.header, ''];
  if (report.notes.length > 0) lines.push(...report.notes.map((text) => `- ${text}`), '');

  if (workflow.length > 0 || webhooks) lines.push('| phase | orders completed | payments/s offered | completed orders/s (overall; steady) | webhook → e-mail p50 / p99 ms | pay → e-mail p50 / p99 ms | webhook server p50 / p99 ms | target |');
  if (workflow.length > 0 || webhooks) lines.push('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const { result: r } of workflow) {
    const target = r.key === 'fixed'
      ? `p99 webhook → e-mail < ${TARGETS.fixedRateP99Ms.toLocaleString('en')} ms ${check(r.webhookToEmail.p99 < TARGETS.fixedRateP99Ms && r.completed === r.orders)} (${ratio(r.webhookToEmail.p99, TARGETS.fixedRateP99Ms)} the limit)`
      : `>= ${TARGETS.ordersPerSecond} orders/s ${check(r.completedPerSecond >= TARGETS.ordersPerSecond && r.completed === r.orders)} (${ratio(r.completedPerSecond, TARGETS.ordersPerSecond)} the target)`;
    lines.push(`| ${r.title} | ${r.completed.toLocaleString('en')} / ${r.orders.toLocaleString('en')} | ${perSecond(r.payRate)} | ${perSecond(r.completedPerSecond)}; ${perSecond(r.steadyPerSecond)} | ` +
      `${pair(r.webhookToEmail)} | ${pair(r.payToEmail)} | ${pair(r.webhookServer)} | ${target} |`);
  }
  if (webhooks) {
    const w = webhooks.result;
    lines.push(`| (4) webhook endpoint, ${perSecond(w.achievedRate)} req/s for ${w.seconds.toFixed(1)} s | ${w.requests.toLocaleString('en')} requests, ${w.non2xx + w.errors} failed | — | — | — | client ${pair(w.client)} | ${pair(w.server)} | ` +
      `p99 < ${TARGETS.webhookP99Ms} ms ${check(w.server.p99 < TARGETS.webhookP99Ms && w.non2xx + w.errors === 0)} (server, ${ratio(w.server.p99, TARGETS.webhookP99Ms)} the limit; client p99 ${ms(w.client.p99)} ms) |`);
  }

  if (delivery) lines.push(...(workflow.length > 0 || webhooks ? [''] : []), ...deliveryLines(delivery));
  if (backlog) lines.push(...(workflow.length > 0 || webhooks || delivery ? [''] : []), ...backlogLines(backlog));

  if (workflow.length > 0) {
    lines.push('', 'Where the time goes (p50 / p99 ms; each stage ends at a transaction start or at the mailbox, so a stage holds the wait for its job plus the previous job\'s remaining work):', '');
    lines.push(`| stage | ${workflow.map((p) => p.result.title).join(' | ')} |`, `|---|${workflow.map(() => '---:').join('|')}|`);
    workflow[0]!.result.stages.forEach((stage, i) => lines.push(`| ${stage.label} | ${workflow.map((p) => pair(p.result.stages[i]!.distribution)).join(' | ')} |`));
    lines.push(`| checkout (in process: createCheckout, the order and its gateway session; with --web N: POST /shop/checkout to its 303, client side) | ${workflow.map((p) => `${pair(p.result.checkout.latency)} (${perSecond(p.result.checkout.perSecond)}/s)`).join(' | ')} |`);
    lines.push('', 'Gateway sandbox deliveries:');
    for (const phase of workflow) {
      const g = phase.gateway;
      const attempts = distribution(g.attemptMs);
      const waits = distribution(g.queueWaitMs);
      lines.push(`- ${phase.result.title}: ${g.events.toLocaleString('en')} events, ${g.delivered.toLocaleString('en')} delivered, ${g.retries} retried, ${g.notDelivered} not delivered; ` +
        `attempt (POST to answer, at the gateway) p50 ${ms(attempts.p50)} ms, p99 ${ms(attempts.p99)} ms, max ${ms(attempts.max)} ms; ` +
        `wait in the gateway's delivery queue (pay → first attempt of checkout.session.completed) p50 ${ms(waits.p50)} ms, p99 ${ms(waits.p99)} ms`);
    }
  }

  const cpus: { title: string; unit: string; count: number; cpu: CpuUsage }[] = [
    ...workflow.flatMap((phase) => (phase.cpu ? [{ title: phase.result.title, unit: 'order', count: phase.result.orders, cpu: phase.cpu }] : [])),
    ...(webhooks?.cpu ? [{ title: '(4) webhook endpoint', unit: 'request', count: webhooks.result.requests, cpu: webhooks.cpu }] : []),
    ...(delivery?.cpu ? [{ title: '(6) to delivery', unit: 'order', count: delivery.result.orders, cpu: delivery.cpu }] : []),
  ];
  if (cpus.length > 0) lines.push('', ...cpuTable(cpus));

  const depths: [string, QueueSample[]][] = [
    ...workflow.map((phase): [string, QueueSample[]] => [phase.result.title, phase.samples]),
    ...(webhooks ? [['(4) webhook endpoint', webhooks.samples] as [string, QueueSample[]]] : []),
    ...(delivery ? [['(6) to delivery', delivery.samples] as [string, QueueSample[]]] : []),
  ];
  if (depths.length > 0) {
    lines.push('', 'pg-boss queue depth, sampled every 0.5 s (jobs waiting; the scale of each line is its own maximum):', '', '```');
    for (const [title, samples] of depths) {
      lines.push(`${title}: ${samples.length} samples over ${((samples.at(-1)?.at ?? 0) / 1000).toFixed(1)} s`);
      for (const queue of Object.keys(samples[0]?.depth ?? {})) {
        const waiting = samples.map((sample) => sample.depth[queue]![0]);
        const active = samples.map((sample) => sample.depth[queue]![1]);
        lines.push(`  ${queue.padEnd(23)} ${sparkline(waiting).padEnd(60)}  max ${Math.max(0, ...waiting)} waiting, ${Math.max(0, ...active)} active`);
      }
    }
    lines.push('```');
  }

  if (report.workerQueries || report.webProcessQueries || workflow.some((phase) => phase.webQueries) || delivery?.webQueries) lines.push('', ...queryTable(report));

  const verifications = [...workflow.map((phase) => phase.verification), ...(webhooks ? [webhooks.verification] : []), ...(delivery ? [delivery.verification] : [])];
  if (backlog) verifications.push(backlogVerification(backlog));
  lines.push('', 'Verification (after each phase):');
  for (const v of verifications) lines.push(`- ${verificationLine(v)}`);
  const problems = [...workflow.flatMap((phase) => phase.problems), ...(webhooks?.problems ?? []), ...(delivery?.problems.map((problem) => `(6) ${problem}`) ?? [])];
  if (problems.length > 0) {
    lines.push('', 'Problems:');
    for (const problem of problems.slice(0, 20)) lines.push(`- ${problem}`);
    if (problems.length > 20) lines.push(`- … and ${problems.length - 20} more`);
  }
  lines.push('');
  process.stdout.write(lines.join('\n'));
}

/** Phase 5: its row, the target, and what the supplier saw. */
function backlogLines(b: BacklogPhaseOutput): string[] {
  const sec = (msValue: number | null) => (msValue === null ? '—' : `${(msValue / 1000).toFixed(1)} s`);
  const out = b.submitted + b.supplierFailed + b.supplierRejected;
  const rate = b.drainedMs ? b.orders / (b.drainedMs / 1000) : 0;
  const drainedInTime = b.drainedMs !== null && b.drainedMs < TARGETS.backlogSeconds * 1000;
  const allSubmitted = b.submitted === b.orders;
  const onceEach = b.duplicated === 0 && b.supplier.duplicates === 0;
  const p = b.supplier.posts;
  const l = b.supplier.lookups;
  return [
    '| phase | orders | drained in (worker resumed → last order out) | orders/s | submitted / supplier_failed / rejected / left | at the supplier (distinct; twice) | POST /v1/orders: 201 / replayed / 5xx | lookups: found / 404 / 5xx | target |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    `| (5) supplier backlog, ${Math.round(SUPPLIER_FAIL_RATE_LABEL * 100)}% of supplier calls 5xx | ${b.orders.toLocaleString('en')} | ${sec(b.drainedMs)} | ${perSecond(rate)} | ` +
      `${b.submitted.toLocaleString('en')} / ${b.supplierFailed} / ${b.supplierRejected} / ${b.pending} | ${b.supplier.orders.toLocaleString('en')} (${b.supplier.distinct.toLocaleString('en')}; ${b.supplier.duplicates}) | ` +
      `${p.created.toLocaleString('en')} / ${p.replayed} / ${p.failed5xx.toLocaleString('en')}${p.other ? ` (+${p.other} other)` : ''} | ${l.found.toLocaleString('en')} / ${l.notFound} / ${l.failed5xx}${l.other ? ` (+${l.other} other)` : ''} | ` +
      `< ${TARGETS.backlogSeconds} s, every order submitted exactly once ${check(drainedInTime && allSubmitted && onceEach)} |`,
    '',
    `Target: backlog of ${b.orders.toLocaleString('en')} paid orders drained in under ${TARGETS.backlogSeconds / 60} minutes with the supplier answering ${Math.round(SUPPLIER_FAIL_RATE_LABEL * 100)}% of calls 5xx, every order submitted exactly once: ` +
      `drained ${drainedInTime ? '✓' : '✗'} (${sec(b.drainedMs)}; ${out.toLocaleString('en')} / ${b.orders.toLocaleString('en')} orders out of the backlog), ` +
      `submitted ${allSubmitted ? '✓' : '✗'} (${b.submitted.toLocaleString('en')}; ${b.supplierFailed} gave up as supplier_failed after 3 attempts${b.supplierRejected ? `, ${b.supplierRejected} rejected` : ''}), ` +
      `exactly once ${onceEach ? '✓' : '✗'} (${b.supplier.duplicates} orders at the supplier twice).`,
    '',
    `Backlog inserted in ${(b.insertMs / 1000).toFixed(1)} s with the worker paused (${b.lines.toLocaleString('en')} lines, ${b.units.toLocaleString('en')} units); by the 1-s samples drained in ${sec(b.sampledMs)}; last order handed over ${sec(b.lastSubmittedMs)} after the worker resumed. ` +
      `Calls: ${p.total.toLocaleString('en')} POST /v1/orders, ${l.total.toLocaleString('en')} lookups (GET /v1/orders/@external_id), ${b.supplier.logged.toLocaleString('en')} API calls in the sandbox's log. ` +
      `Our side: ${b.storedIds.toLocaleString('en')} supplier ids stored; submit jobs failed ${b.jobs.failed}, dead-lettered ${b.jobs.deadLettered}, still live ${b.jobs.live}.`,
  ];
}

export function verificationLine(v: Verification): string {
  const head = `${v.phase}: ${v.lost} lost, ${v.duplicated} duplicated ${check(v.ok)}`;
  return v.findings.length ? `${head} (${v.findings.join('; ')})` : head;
}

/** CPU ms per order (or request) by component, with the cores each used on average, and what the machine did. */
function cpuTable(cpus: { title: string; unit: string; count: number; cpu: CpuUsage }[]): string[] {
  const lines = ['CPU time per order (per request for phase 4), ms, and the cores it kept busy on average (from /proc; the phase from its first checkout to its last e-mail):', ''];
  lines.push(`| component | ${cpus.map((c) => c.title).join(' | ')} |`, `|---|${cpus.map(() => '---:').join('|')}|`);
  const cell = (c: (typeof cpus)[number], ms: number) => `${(ms / Math.max(1, c.count)).toFixed(1)} (${(ms / c.cpu.wallMs).toFixed(2)} cores)`;
  for (const [key, label] of Object.entries(COMPONENTS)) lines.push(`| ${label} | ${cpus.map((c) => cell(c, c.cpu.components[key] ?? 0)).join(' | ')} |`);
  const sum = (c: (typeof cpus)[number]) => Object.values(c.cpu.components).reduce((a, b) => a + b, 0);
  lines.push(`| **all of the above** | ${cpus.map((c) => cell(c, sum(c))).join(' | ')} |`);
  lines.push(`| rest of the machine's busy time (kernel networking; other databases and processes: other people's work on a shared machine) | ${cpus.map((c) => cell(c, Math.max(0, c.cpu.machine.busy - sum(c)))).join(' | ')} |`);
  lines.push(`| machine: busy / idle / stolen by the hypervisor, % | ${cpus.map((c) => {
    const total = c.cpu.machine.busy + c.cpu.machine.idle + c.cpu.machine.steal;
    const pct = (ms: number) => ((100 * ms) / Math.max(1, total)).toFixed(0);
    return `${pct(c.cpu.machine.busy)} / ${pct(c.cpu.machine.idle)} / ${pct(c.cpu.machine.steal)}`;
  }).join(' | ')} |`);
  return lines;
}

/** With --count-queries: statements per order, the web side's by phase and the worker's over the run. */
function queryTable(report: Report): string[] {
  const workflow = [report.fixed, report.afap].filter((phase): phase is PhaseOutput => phase !== undefined);
  const warmUpOrders = report.warmUp?.orders ?? 0;
  const orders = workflow.reduce((sum, phase) => sum + phase.result.orders, 0) + (report.delivery?.result.orders ?? 0) + warmUpOrders;
  const lines: string[] = [];
  const table = (title: string, counts: Record<string, number>, per: number, unit: string) => {
    const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
    const total = entries.reduce((sum, [, n]) => sum + n, 0);
    lines.push(`${title}: ${(total / per).toFixed(1)} statements per ${unit} (${total.toLocaleString('en')} in all); the 15 most frequent:`, '');
    lines.push(`| per ${unit} | statement (first 100 characters) |`, '|---:|---|');
    for (const [text, n] of entries.slice(0, 15)) lines.push(`| ${(n / per).toFixed(2)} | \`${text.replaceAll('|', '\\|').replaceAll('`', "'")}\` |`);
    lines.push('');
  };
  for (const phase of workflow) if (phase.webQueries) table(`Web side, ${phase.result.title}`, phase.webQueries, phase.result.orders, 'order');
  if (report.delivery?.webQueries) table(`Web side, ${report.delivery.result.title}`, report.delivery.webQueries, report.delivery.result.orders, 'order');
  if (report.webProcessQueries && orders > 0) {
    table(`Web processes, whole run ÷ ${orders.toLocaleString('en')} orders${warmUpOrders ? ` (the warm-up's ${warmUpOrders.toLocaleString('en')} included)` : ''}`, report.webProcessQueries, orders, 'order');
  }
  if (report.workerQueries && orders > 0) {
    const extra = (warmUpOrders ? ` (the warm-up's ${warmUpOrders.toLocaleString('en')} included)` : '') + (report.webhooks ? ` (phase 4 included: its ${report.webhooks.result.requests.toLocaleString('en')} events are counted too)` : '');
    table(`Worker, whole run ÷ ${orders.toLocaleString('en')} orders${extra}`, report.workerQueries, orders, 'order');
  }
  return lines;
}

/** Phase 5 as a verification: lost = orders not at the supplier; duplicated = orders there twice (fails the run). */
export function backlogVerification(b: BacklogPhaseOutput): Verification {
  return { phase: '(5) supplier backlog', lost: b.orders - b.submitted, duplicated: b.duplicated, findings: b.findings, ok: b.duplicated === 0 && b.findings.length === 0 };
}
