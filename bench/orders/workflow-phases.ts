/**
 * The two workflow phases: (1) orders at a fixed rate, checkout then payment,
 * and (2) as fast as possible: checkouts made first, then every session paid
 * with a bounded number of payments in flight. Each ends when every order's
 * invoice e-mail is in the mailbox (or after --drain-timeout), then its
 * figures are read back and checked. Phase 6 (delivery-phase.ts) pays its
 * orders as phase 2 does and settles the same way (checkoutThenPay, settle).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuUsage, type CpuSnapshot, type CpuUsage } from './cpu.ts';
import type { DeliverySummary } from './helper-thread.ts';
import { tallyDelta, tallyNow, type Tally } from './query-tally.ts';
import { CHECKOUT_CONCURRENCY, MAX_OPEN_ORDERS, SAMPLED_QUEUES, type BenchOptions, type OrderTimeline, type QueueSample, type Verification, type WorkflowPhaseResult } from './model.ts';
import { waitForEmails, type CompletionOutcome } from './completion.ts';
import { int, note } from './progress.ts';
import { sampleQueueDepth, type DepthSampler } from './queue-depth.ts';
import { placeOrders, shopperRequest, type PlacedOrder } from './shoppers.ts';
import type { Stack } from './stack.ts';
import { distribution, spans, throughput } from './stats.ts';
import { orderTimelines, type PaidOrder } from './timings.ts';
import { verifyOrders } from './verify.ts';

export interface PhaseOutput {
  result: WorkflowPhaseResult;
  samples: QueueSample[];
  gateway: DeliverySummary;
  verification: Verification;
  /** Sentences about what went wrong on the way (failed payments, a timeout). */
  problems: string[];
  /** Some e-mails had not arrived when --drain-timeout ran out. */
  timedOut: boolean;
  /** CPU time by component from the phase's first checkout to its last e-mail. */
  cpu: CpuUsage | undefined;
  /** With --count-queries: the web side's statements in that time. */
  webQueries: Tally | undefined;
}

/** Shoppers are numbered across phases: every phase has its own new customers. */
let nextShopper = 0;

export async function fixedRatePhase(stack: Stack, options: BenchOptions, count: number, signal: AbortSignal): Promise<PhaseOutput> {
  const label = `(1) fixed rate`;
  note(`${label}: ${int(count)} orders at ${options.rate}/s (checkout, then payment at the gateway)`);
  const sampler = await sampleQueueDepth(stack.url);
  stack.webhookTimes.take();
  const cpuFrom = stack.cpu();
  const queriesFrom = tallyNow();
  const paid: PaidOrder[] = [];
  const checkoutMs: number[] = [];
  const problems: string[] = [];
  const open = new Set<Promise<void>>();
  const first = nextShopper;
  nextShopper += count;
  const start = performance.now();
  let lastProgress = start;
  for (let i = 0; i < count && !signal.aborted; i++) {
    const due = start + (i * 1000) / options.rate;
    if (due > performance.now()) await sleep(due - performance.now(), undefined, { signal }).catch(() => {});
    while (open.size >= MAX_OPEN_ORDERS) await Promise.race(open);
    const order: Promise<void> = (async () => {
      const placed = await stack.checkout(shopperRequest(stack.catalogue, first + i));
      checkoutMs.push(placed.checkoutMs);
      const [outcome] = await stack.helper.pay({ sessionIds: [placed.sessionId], inFlight: 1 });
      if (outcome!.error) problems.push(`order ${placed.number}: payment failed: ${outcome!.error}`);
      else paid.push({ orderId: placed.orderId, number: placed.number, payAt: outcome!.at });
    })().catch((error: unknown) => {
      problems.push(`shopper ${first + i}: ${(error as Error).message}`);
    }).finally(() => open.delete(order));
    open.add(order);
    if (performance.now() - lastProgress >= 5_000) {
      lastProgress = performance.now();
      note(`${label}: ${int(i + 1)} / ${int(count)} orders started, ${int(stack.helper.mailbox.total())} e-mails in the mailbox`);
    }
  }
  await Promise.all(open);
  const checkoutSeconds = (performance.now() - start) / 1000;
  return finish(stack, options, { key: 'fixed', title: `(1) fixed rate, ${options.rate} orders/s`, label, paid, sampler, signal, problems, cpuFrom, queriesFrom,
    checkout: { perSecond: checkoutMs.length / checkoutSeconds, latency: distribution(checkoutMs) } });
}

export async function asFastAsPossiblePhase(stack: Stack, options: BenchOptions, count: number, signal: AbortSignal): Promise<PhaseOutput> {
  const label = `(2) as fast as possible`;
  const batch = await checkoutThenPay(stack, options, count, label, signal);
  return finish(stack, options, { key: 'afap', title: `(2) as fast as possible, ${options.inFlight} payments in flight`, label, signal, ...batch });
}

/** What the warm-up leaves: how many orders it completed, and the check of them. */
export interface WarmUpOutput {
  orders: number;
  verification: Verification;
}

/**
 * Before the measured phases: `count` orders through the whole flow as in
 * phase 2, then ANALYZE, as autovacuum does on a running shop within a minute
 * or two. Nothing of it is reported but the line saying it ran; its orders
 * are checked like any phase's (a failed checkout or payment fails the check,
 * its sentence among the findings).
 *
 * Why: the database is created afresh for every run, with statistics that
 * say the job table is empty. The worker prepares pg-boss's fetch on them,
 * and the plan, which joins the locked batch back to the table by scanning
 * every job of the queue (auto_explain: 1,175 rows filtered to fetch 5; 1.6
 * ms of Postgres time per order with a thousand queued), lasts until the
 * table is analysed. Measured that way, the figures would be those of a
 * shop's first minute, not of a running one (--warm-up 0 shows them).
 */
export async function warmUpPhase(stack: Stack, options: BenchOptions, count: number, signal: AbortSignal): Promise<WarmUpOutput | undefined> {
  const label = '(0) warm-up';
  const batch = await checkoutThenPay(stack, options, count, label, signal);
  const ids = batch.paid.map((order) => order.orderId);
  const deadline = drainDeadline(batch.paid, options);
  const completion = await waitForEmails(stack.pool, label, ids, stack.helper.mailbox, batch.sampler, deadline, signal);
  await settle(stack, options, batch, completion, deadline, signal);
  if (signal.aborted) return undefined;
  const verification = await verifyOrders(stack.pool, label, ids, stack.helper.mailbox);
  if (batch.problems.length > 0) {
    verification.findings.push(...batch.problems);
    verification.ok = false;
  }
  await stack.pool.query('/* bench */ analyze');
  note(`${label}: ${int(batch.paid.length)} orders completed; the database analysed`);
  return { orders: batch.paid.length, verification };
}

/** What checkoutThenPay leaves for its phase to wait on and read back. */
export interface PaidBatch {
  paid: PaidOrder[];
  /** Sentences about failed checkouts and payments; the phase adds its own. */
  problems: string[];
  checkout: WorkflowPhaseResult['checkout'];
  /** Sampling the queues since just before the first payment. */
  sampler: DepthSampler;
  /** Taken before the first checkout. */
  cpuFrom: CpuSnapshot | undefined;
  queriesFrom: Tally | undefined;
}

/**
 * Phase 2's load, which phase 6 shares: `count` checkouts first
 * (CHECKOUT_CONCURRENCY at once), then every session paid as fast as the
 * gateway takes it with --in-flight payments at once; `queues` sampled from
 * just before the first payment.
 */
export async function checkoutThenPay(stack: Stack, options: BenchOptions, count: number, label: string, signal: AbortSignal,
  queues: readonly string[] = SAMPLED_QUEUES): Promise<PaidBatch> {
  note(`${label}: creating ${int(count)} checkouts first (${CHECKOUT_CONCURRENCY} at once)`);
  const first = nextShopper;
  nextShopper += count;
  const cpuFrom = stack.cpu();
  const queriesFrom = tallyNow();
  const checkoutStart = performance.now();
  let lastProgress = checkoutStart;
  const placed: PlacedOrder[] = await placeOrders(stack.checkout, stack.catalogue, first, count, CHECKOUT_CONCURRENCY, signal, (done) => {
    if (performance.now() - lastProgress < 5_000) return;
    lastProgress = performance.now();
    note(`${label}: ${int(done)} / ${int(count)} checkouts`);
  });
  const checkoutSeconds = (performance.now() - checkoutStart) / 1000;
  const checkout = { perSecond: placed.length / checkoutSeconds, latency: distribution(placed.map((order) => order.checkoutMs)) };
  note(`${label}: ${int(placed.length)} checkouts in ${checkoutSeconds.toFixed(1)} s; paying them, ${options.inFlight} payments in flight`);

  const sampler = await sampleQueueDepth(stack.url, queues);
  await sleep(600); // a sample of the queues at rest first
  stack.webhookTimes.take();
  stack.supplierWebhookTimes.take();
  const outcomes = signal.aborted ? [] : await stack.helper.pay({ sessionIds: placed.map((order) => order.sessionId), inFlight: options.inFlight });
  const problems: string[] = [];
  const paid: PaidOrder[] = [];
  outcomes.forEach((outcome, i) => {
    const order = placed[i]!;
    if (outcome.error) problems.push(`order ${order.number}: payment failed: ${outcome.error}`);
    else paid.push({ orderId: order.orderId, number: order.number, payAt: outcome.at });
  });
  return { paid, problems, checkout, sampler, cpuFrom, queriesFrom };
}

interface Finishing extends PaidBatch {
  key: WorkflowPhaseResult['key'];
  title: string;
  label: string;
  signal: AbortSignal;
}

async function finish(stack: Stack, options: BenchOptions, phase: Finishing): Promise<PhaseOutput> {
  const { paid, problems } = phase;
  note(`${phase.label}: ${int(paid.length)} orders paid; waiting for their invoice e-mails (at most ${options.drainTimeoutSeconds} s after the last payment)`);
  const deadline = drainDeadline(paid, options);
  const ids = paid.map((order) => order.orderId);
  const completion = await waitForEmails(stack.pool, phase.label, ids, stack.helper.mailbox, phase.sampler, deadline, phase.signal);
  const { cpu, webQueries, samples } = await settle(stack, options, phase, completion, deadline, phase.signal);
  const webhookServer = distribution(stack.webhookTimes.take());

  const timelines = await orderTimelines(stack.pool, paid, stack.helper.mailbox);
  const gateway = await stack.helper.deliveries();
  note(`${phase.label}: checking every order (paid once, one invoice, one e-mail)`);
  const verification = await verifyOrders(stack.pool, phase.key === 'fixed' ? '(1) fixed rate' : '(2) as fast as possible', ids, stack.helper.mailbox);
  failedPayments(problems, verification);
  const result = summarise(phase, timelines, webhookServer);
  note(`${phase.label}: ${int(result.completed)} / ${int(result.orders)} completed, ${result.completedPerSecond.toFixed(1)} orders/s, webhook→e-mail p50 ${Math.round(result.webhookToEmail.p50)} ms, p99 ${Math.round(result.webhookToEmail.p99)} ms`);
  return { result, samples, gateway, verification, problems, timedOut: completion.timedOut, cpu, webQueries };
}

/** When a phase stops waiting for its orders: --drain-timeout after its last payment (on the performance.now() clock). */
export function drainDeadline(paid: PaidOrder[], options: BenchOptions): number {
  const lastPay = Math.max(0, ...paid.map((order) => order.payAt));
  return performance.now() + Math.max(0, lastPay + options.drainTimeoutSeconds * 1000 - Date.now());
}

/**
 * Once a phase's completing e-mails are in (or it gave up): the CPU time and
 * the web side's statements up to then; the stored webhooks that complete
 * no order processed (a decline's, any duplicate, the supplier's late ones);
 * the queues sampled at rest a little longer. Adds a sentence to `problems`
 * when the phase gave up.
 */
export async function settle(stack: Stack, options: BenchOptions, batch: PaidBatch, completion: CompletionOutcome, deadline: number, signal: AbortSignal):
  Promise<{ cpu: CpuUsage | undefined; webQueries: Tally | undefined; samples: QueueSample[] }> {
  const cpu = cpuUsage(batch.cpuFrom, stack.cpu());
  const webQueries = tallyDelta(batch.queriesFrom, tallyNow());
  await stack.helper.pollMail();
  while (!signal.aborted && !completion.stalledOn && performance.now() < deadline) {
    const { rows: [row] } = await stack.pool.query<{ n: string }>(`/* bench */ select count(*) as n from webhook_events where processed_at is null`);
    if (Number(row!.n) === 0) break;
    await sleep(250);
  }
  await sleep(1_000); // the last samples show the queues at rest
  const samples = await batch.sampler.stop();
  const count = batch.paid.length;
  if (completion.stalledOn) batch.problems.push(`gave up after ${int(completion.delivered)} e-mails: nothing arrived for 30 s while ${completion.stalledOn}`);
  else if (completion.timedOut) batch.problems.push(`${int(count - completion.delivered)} orders had no e-mail ${options.drainTimeoutSeconds} s after the last payment`);
  return { cpu, webQueries, samples };
}

/** A checkout or payment that failed is no lost order (the shopper was told), but the run is not clean. */
export function failedPayments(problems: string[], verification: Verification): void {
  const failed = problems.filter((problem) => / failed: |^shopper /.test(problem)).length;
  if (failed > 0) {
    verification.findings.push(`${failed} checkouts or payments failed (see Problems)`);
    verification.ok = false;
  }
}

function summarise(phase: Finishing, timelines: OrderTimeline[], webhookServer: WorkflowPhaseResult['webhookServer']): WorkflowPhaseResult {
  const done = timelines.filter((t) => t.deliveredAt !== null);
  const span = (from: (t: OrderTimeline) => number | null, to: (t: OrderTimeline) => number | null) => spans(timelines, from, to);
  const rates = throughput(timelines.map((t) => t.payAt), done.map((t) => t.deliveredAt!));
  return {
    key: phase.key, title: phase.title, orders: timelines.length, completed: done.length, payRate: rates.payRate,
    completedPerSecond: rates.completedPerSecond,
    steadyPerSecond: rates.steadyPerSecond,
    webhookToEmail: span((t) => t.webhookAt, (t) => t.deliveredAt),
    payToEmail: span((t) => t.payAt, (t) => t.deliveredAt),
    stages: [
      { label: 'pay → webhook stored', distribution: span((t) => t.payAt, (t) => t.webhookAt) },
      { label: 'webhook stored → paid (job started)', distribution: span((t) => t.webhookAt, (t) => t.paidAt) },
      { label: 'paid → PDF stored', distribution: span((t) => t.paidAt, (t) => t.renderedAt) },
      { label: 'PDF stored → e-mail job started', distribution: span((t) => t.renderedAt, (t) => t.sendStartedAt) },
      { label: 'e-mail job started → in the mailbox', distribution: span((t) => t.sendStartedAt, (t) => t.deliveredAt) },
    ],
    webhookServer, seconds: rates.seconds, checkout: phase.checkout,
  };
}
