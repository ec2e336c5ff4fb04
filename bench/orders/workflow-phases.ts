/**
 * The two workflow phases: (1) orders at a fixed rate, checkout then payment,
 * and (2) as fast as possible: checkouts made first, then every session paid
 * with a bounded number of payments in flight. Each ends when every order's
 * invoice e-mail is in the mailbox (or after --drain-timeout), then its
 * figures are read back and checked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuUsage, type CpuSnapshot, type CpuUsage } from './cpu.ts';
import type { DeliverySummary } from './helper-thread.ts';
import { tallyDelta, tallyNow, type Tally } from './query-tally.ts';
import { CHECKOUT_CONCURRENCY, MAX_OPEN_ORDERS, type BenchOptions, type OrderTimeline, type QueueSample, type Verification, type WorkflowPhaseResult } from './model.ts';
import { waitForEmails } from './completion.ts';
import { int, note } from './progress.ts';
import { sampleQueueDepth, type DepthSampler } from './queue-depth.ts';
import { placeOrder, placeOrders, shopperRequest, type PlacedOrder } from './shoppers.ts';
import type { Stack } from './stack.ts';
import { distribution } from './stats.ts';
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
      const placed = await placeOrder(stack.checkoutDeps, shopperRequest(stack.catalogue, first + i));
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
  note(`${label}: creating ${int(count)} checkouts first (${CHECKOUT_CONCURRENCY} at once)`);
  const first = nextShopper;
  nextShopper += count;
  const cpuFrom = stack.cpu();
  const queriesFrom = tallyNow();
  const checkoutStart = performance.now();
  let lastProgress = checkoutStart;
  const placed: PlacedOrder[] = await placeOrders(stack.checkoutDeps, stack.catalogue, first, count, CHECKOUT_CONCURRENCY, signal, (done) => {
    if (performance.now() - lastProgress < 5_000) return;
    lastProgress = performance.now();
    note(`${label}: ${int(done)} / ${int(count)} checkouts`);
  });
  const checkoutSeconds = (performance.now() - checkoutStart) / 1000;
  const checkout = { perSecond: placed.length / checkoutSeconds, latency: distribution(placed.map((order) => order.checkoutMs)) };
  note(`${label}: ${int(placed.length)} checkouts in ${checkoutSeconds.toFixed(1)} s; paying them, ${options.inFlight} payments in flight`);

  const sampler = await sampleQueueDepth(stack.url);
  await sleep(600); // a sample of the queues at rest first
  stack.webhookTimes.take();
  const outcomes = signal.aborted ? [] : await stack.helper.pay({ sessionIds: placed.map((order) => order.sessionId), inFlight: options.inFlight });
  const problems: string[] = [];
  const paid: PaidOrder[] = [];
  outcomes.forEach((outcome, i) => {
    const order = placed[i]!;
    if (outcome.error) problems.push(`order ${order.number}: payment failed: ${outcome.error}`);
    else paid.push({ orderId: order.orderId, number: order.number, payAt: outcome.at });
  });
  return finish(stack, options, { key: 'afap', title: `(2) as fast as possible, ${options.inFlight} payments in flight`, label, paid, sampler, signal, problems, checkout, cpuFrom, queriesFrom });
}

interface Finishing {
  key: WorkflowPhaseResult['key'];
  title: string;
  label: string;
  paid: PaidOrder[];
  sampler: DepthSampler;
  signal: AbortSignal;
  problems: string[];
  checkout: WorkflowPhaseResult['checkout'];
  cpuFrom: CpuSnapshot | undefined;
  queriesFrom: Tally | undefined;
}

async function finish(stack: Stack, options: BenchOptions, phase: Finishing): Promise<PhaseOutput> {
  const { paid, problems, sampler } = phase;
  const lastPay = Math.max(0, ...paid.map((order) => order.payAt));
  note(`${phase.label}: ${int(paid.length)} orders paid; waiting for their invoice e-mails (at most ${options.drainTimeoutSeconds} s after the last payment)`);
  const deadline = performance.now() + Math.max(0, lastPay + options.drainTimeoutSeconds * 1000 - Date.now());
  const ids = paid.map((order) => order.orderId);
  const completion = await waitForEmails(stack.pool, phase.label, ids, stack.helper.mailbox, sampler, deadline, phase.signal);
  const cpu = cpuUsage(phase.cpuFrom, stack.cpu());
  const webQueries = tallyDelta(phase.queriesFrom, tallyNow());
  await stack.helper.pollMail();
  // Events that complete no order (a decline's, or any duplicate) may still be waiting for the worker.
  while (!phase.signal.aborted && !completion.stalledOn && performance.now() < deadline) {
    const { rows: [row] } = await stack.pool.query<{ n: string }>(`/* bench */ select count(*) as n from webhook_events where processed_at is null`);
    if (Number(row!.n) === 0) break;
    await sleep(250);
  }
  await sleep(1_000); // the last samples show the queues at rest
  const samples = await sampler.stop();
  const webhookServer = distribution(stack.webhookTimes.take());
  if (completion.stalledOn) problems.push(`gave up after ${int(completion.delivered)} e-mails: nothing arrived for 30 s while ${completion.stalledOn}`);
  else if (completion.timedOut) problems.push(`${int(ids.length - completion.delivered)} orders had no e-mail ${options.drainTimeoutSeconds} s after the last payment`);

  const timelines = await orderTimelines(stack.pool, paid, stack.helper.mailbox);
  const gateway = await stack.helper.deliveries();
  note(`${phase.label}: checking every order (paid once, one invoice, one e-mail)`);
  const verification = await verifyOrders(stack.pool, phase.key === 'fixed' ? '(1) fixed rate' : '(2) as fast as possible', ids, stack.helper.mailbox);
  // A checkout or payment that failed is no lost order (the shopper was told), but the run is not clean.
  const failed = problems.filter((problem) => / failed: |^shopper /.test(problem)).length;
  if (failed > 0) {
    verification.findings.push(`${failed} checkouts or payments failed (see Problems)`);
    verification.ok = false;
  }
  const result = summarise(phase, timelines, webhookServer);
  note(`${phase.label}: ${int(result.completed)} / ${int(result.orders)} completed, ${result.completedPerSecond.toFixed(1)} orders/s, webhook→e-mail p50 ${Math.round(result.webhookToEmail.p50)} ms, p99 ${Math.round(result.webhookToEmail.p99)} ms`);
  return { result, samples, gateway, verification, problems, timedOut: completion.timedOut, cpu, webQueries };
}

function summarise(phase: Finishing, timelines: OrderTimeline[], webhookServer: WorkflowPhaseResult['webhookServer']): WorkflowPhaseResult {
  const done = timelines.filter((t) => t.deliveredAt !== null);
  const span = (from: (t: OrderTimeline) => number | null, to: (t: OrderTimeline) => number | null) =>
    distribution(timelines.flatMap((t) => {
      const [a, b] = [from(t), to(t)];
      return a === null || b === null ? [] : [b - a];
    }));
  const pays = timelines.map((t) => t.payAt).sort((a, b) => a - b);
  const deliveries = done.map((t) => t.deliveredAt!).sort((a, b) => a - b);
  const firstPay = pays[0] ?? 0;
  const seconds = deliveries.length ? (deliveries.at(-1)! - firstPay) / 1000 : 0;
  const payRate = pays.length > 1 ? (pays.length - 1) / ((pays.at(-1)! - firstPay) / 1000) : 0;
  // Completions between the 10th and the 90th percentile of completion times: the rate once running, without start and tail.
  const [p10, p90] = [Math.floor(deliveries.length * 0.1), Math.ceil(deliveries.length * 0.9) - 1];
  const steady = deliveries.length >= 10 && deliveries[p90]! > deliveries[p10]! ? (p90 - p10) / ((deliveries[p90]! - deliveries[p10]!) / 1000) : 0;
  return {
    key: phase.key, title: phase.title, orders: timelines.length, completed: done.length, payRate,
    completedPerSecond: seconds > 0 ? done.length / seconds : 0,
    steadyPerSecond: steady,
    webhookToEmail: span((t) => t.webhookAt, (t) => t.deliveredAt),
    payToEmail: span((t) => t.payAt, (t) => t.deliveredAt),
    stages: [
      { label: 'pay → webhook stored', distribution: span((t) => t.payAt, (t) => t.webhookAt) },
      { label: 'webhook stored → paid (job started)', distribution: span((t) => t.webhookAt, (t) => t.paidAt) },
      { label: 'paid → PDF stored', distribution: span((t) => t.paidAt, (t) => t.renderedAt) },
      { label: 'PDF stored → e-mail job started', distribution: span((t) => t.renderedAt, (t) => t.sendStartedAt) },
      { label: 'e-mail job started → in the mailbox', distribution: span((t) => t.sendStartedAt, (t) => t.deliveredAt) },
    ],
    webhookServer, seconds, checkout: phase.checkout,
  };
}
