/**
 * Phase 6, to delivery: the supplier sandbox's production, shipping and
 * delivery delays set to zero through its control API (every
 * DELIVERY_SPLIT_EVERY-th order it accepts ships in two packages), no
 * faults; --delivered orders checked out and paid as phase 2 pays them
 * (checkoutThenPay). The worker hands each paid order to the supplier, whose
 * signed webhooks (accepted, in production, one per package, shipped,
 * delivered) come to POST /webhooks/supplier as fast as the sandbox sends
 * them. An order is complete when it is delivered here (fulfilment_state)
 * and its "delivered" e-mail is in the mailbox. Afterwards the sandbox is
 * parked again (24 h delays, no split) for phase 5.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { supplierSandboxClient, type DeliveryReport } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { waitForEmails } from './completion.ts';
import type { CpuUsage } from './cpu.ts';
import { deliveryTimelines, type DeliveryTimeline } from './delivery-timings.ts';
import { verifyDelivered, type DeliveryCounts } from './delivery-verify.ts';
import type { DeliverySummary } from './helper-thread.ts';
import {
  DELIVERY_SAMPLED_QUEUES, DELIVERY_SPLIT_EVERY, SUPPLIER_PARKED_DELAY_MS,
  type BenchOptions, type Distribution, type QueueSample, type Verification, type WorkflowPhaseResult,
} from './model.ts';
import { int, note } from './progress.ts';
import type { Tally } from './query-tally.ts';
import type { Stack } from './stack.ts';
import { distribution, spans, throughput, type Throughput } from './stats.ts';
import { checkoutThenPay, drainDeadline, failedPayments, settle } from './workflow-phases.ts';

export interface DeliveryPhaseResult extends Throughput {
  title: string;
  orders: number;
  /** Delivered here with the "delivered" e-mail in the mailbox. */
  completed: number;
  /** Payment asked → "delivered" e-mail in the mailbox (completed orders). */
  payToDelivered: Distribution;
  /** Payment asked → invoice e-mail in the mailbox. */
  payToInvoice: Distribution;
  stages: { label: string; distribution: Distribution }[];
  /** Server side (reply.elapsedTime) during the phase: POST /webhooks/stripe and POST /webhooks/supplier. */
  webhookServer: Distribution;
  supplierWebhookServer: Distribution;
  checkout: WorkflowPhaseResult['checkout'];
  /** Orders not completed, by their fulfilment state. */
  incomplete: Record<string, number>;
}

/** The supplier sandbox's webhooks about the phase's orders. */
export interface SupplierWebhooks {
  events: number;
  byType: Record<string, number>;
  delivered: number;
  notDelivered: number;
  /** Attempts after a first one that failed (non-2xx or no answer). */
  retries: number;
  /** Each attempt's duration at the sandbox (the app's answer time plus the network). */
  attempt: Distribution;
}

export interface DeliveryPhaseOutput {
  result: DeliveryPhaseResult;
  samples: QueueSample[];
  gateway: DeliverySummary;
  supplier: SupplierWebhooks;
  counts: DeliveryCounts;
  verification: Verification;
  problems: string[];
  timedOut: boolean;
  /** CPU time by component from the phase's first checkout to its last "delivered" e-mail. */
  cpu: CpuUsage | undefined;
  webQueries: Tally | undefined;
}

const PARKED = { production: SUPPLIER_PARKED_DELAY_MS, shipping: SUPPLIER_PARKED_DELAY_MS, delivery: SUPPLIER_PARKED_DELAY_MS };

export async function deliveryPhase(stack: Stack, options: BenchOptions, signal: AbortSignal): Promise<DeliveryPhaseOutput> {
  const label = '(6) to delivery';
  if (!stack.supplier) throw new Error('phase 6 needs the supplier sandbox (started with the stack when --phases has 6)');
  const sandbox = supplierSandboxClient(stack.supplier.url);
  const problems: string[] = [];
  const leftover = await quiesce(stack, options, label, signal);
  if (leftover) problems.push(leftover);
  await sandbox.resetFaults();
  await sandbox.clearRequests();
  await sandbox.configure({ delaysMs: { production: 0, shipping: 0, delivery: 0 }, splitShipmentsEvery: DELIVERY_SPLIT_EVERY });
  note(`${label}: supplier sandbox delays set to 0 (production, shipping, delivery), every ${DELIVERY_SPLIT_EVERY}th order in two packages, no faults`);
  try {
    const batch = await checkoutThenPay(stack, options, options.delivered, label, signal, DELIVERY_SAMPLED_QUEUES);
    batch.problems.unshift(...problems);
    const { paid } = batch;
    note(`${label}: ${int(paid.length)} orders paid; waiting for their "delivered" e-mails (at most ${options.drainTimeoutSeconds} s after the last payment)`);
    const deadline = drainDeadline(paid, options);
    const ids = paid.map((order) => order.orderId);
    const completion = await waitForEmails(stack.pool, label, ids, stack.helper.mailbox, batch.sampler, deadline, signal, 'delivered');
    const { cpu, webQueries, samples } = await settle(stack, options, batch, completion, deadline, signal);
    const webhookServer = distribution(stack.webhookTimes.take());
    const supplierWebhookServer = distribution(stack.supplierWebhookTimes.take());

    const timelines = await deliveryTimelines(stack.pool, paid, stack.helper.mailbox);
    const gateway = await stack.helper.deliveries();
    note(`${label}: checking every order (paid once, one invoice, at the supplier once, delivered, its e-mails once each)`);
    const wanted = new Set(paid.map((order) => order.number));
    const [atSupplier, requests, events] = await Promise.all([sandbox.orders(), sandbox.requests(), sandbox.events()]);
    const { verification, counts } = await verifyDelivered(stack.pool, '(6) to delivery', paid, atSupplier, requests, stack.helper.mailbox);
    failedPayments(batch.problems, verification);
    const result = summarise(`(6) to delivery, ${options.inFlight} payments in flight, supplier delays 0`, timelines, batch.checkout, webhookServer, supplierWebhookServer);
    note(`${label}: ${int(result.completed)} / ${int(result.orders)} delivered, ${result.completedPerSecond.toFixed(1)} orders/s, ` +
      `pay→delivered p50 ${Math.round(result.payToDelivered.p50)} ms, p99 ${Math.round(result.payToDelivered.p99)} ms`);
    return {
      result, samples, gateway, supplier: supplierWebhooks(events.filter((event) => wanted.has(event.externalId))), counts, verification,
      problems: batch.problems, timedOut: completion.timedOut, cpu, webQueries,
    };
  } finally {
    await sandbox.configure({ delaysMs: PARKED, splitShipmentsEvery: 0 }).catch((error: unknown) => note(`${label}: could not park the supplier sandbox again: ${(error as Error).message}`));
  }
}

/**
 * Earlier phases' orders are done with the supplier first (their submissions
 * and webhooks processed), so that this phase measures its own orders; gives
 * up after --drain-timeout with a sentence.
 */
async function quiesce(stack: Stack, options: BenchOptions, label: string, signal: AbortSignal): Promise<string | undefined> {
  const deadline = performance.now() + options.drainTimeoutSeconds * 1000;
  for (let first = true; !signal.aborted; first = false) {
    const { rows: [row] } = await stack.pool.query<{ jobs: string; events: string }>(`/* bench */
      select (select count(*) from pgboss.job where name = any($1) and state in ('created', 'retry', 'active')) as jobs,
             (select count(*) from webhook_events where processed_at is null) as events`, [[SupplierQueues.submitOrder, SupplierQueues.processEvent]]);
    const [jobs, events] = [Number(row!.jobs), Number(row!.events)];
    if (jobs + events === 0) return undefined;
    if (first) note(`${label}: waiting for earlier phases' supplier jobs (${int(jobs)}) and stored webhooks (${int(events)}) first`);
    if (performance.now() > deadline) return `phase 6 started with ${int(jobs)} supplier jobs and ${int(events)} stored webhooks of earlier phases waiting: the worker worked them meanwhile`;
    await sleep(500);
  }
  return undefined;
}

function summarise(title: string, timelines: DeliveryTimeline[], checkout: WorkflowPhaseResult['checkout'], webhookServer: Distribution, supplierWebhookServer: Distribution): DeliveryPhaseResult {
  const completedAt = (t: DeliveryTimeline) => (t.fulfilment === 'delivered' ? t.deliveredMailAt : null);
  const done = timelines.filter((t) => completedAt(t) !== null);
  const incomplete: Record<string, number> = {};
  for (const t of timelines) if (completedAt(t) === null) incomplete[t.fulfilment] = (incomplete[t.fulfilment] ?? 0) + 1;
  const span = (from: (t: DeliveryTimeline) => number | null, to: (t: DeliveryTimeline) => number | null) => spans(timelines, from, to);
  return {
    title, orders: timelines.length, completed: done.length,
    ...throughput(timelines.map((t) => t.payAt), done.map((t) => completedAt(t)!)),
    payToDelivered: span((t) => t.payAt, completedAt),
    payToInvoice: span((t) => t.payAt, (t) => t.invoiceMailAt),
    stages: [
      { label: 'pay → paid (webhook stored, payment job started)', distribution: span((t) => t.payAt, (t) => t.paidAt) },
      { label: 'pay → invoice e-mail in the mailbox', distribution: span((t) => t.payAt, (t) => t.invoiceMailAt) },
      { label: 'paid → submitted to the supplier (supplier_orders.submitted_at)', distribution: span((t) => t.paidAt, (t) => t.submittedAt) },
      { label: 'submitted → delivered (fulfilment_state)', distribution: span((t) => t.submittedAt, (t) => t.deliveredAt) },
      { label: 'delivered → "delivered" e-mail in the mailbox', distribution: span((t) => t.deliveredAt, completedAt) },
    ],
    webhookServer, supplierWebhookServer, checkout, incomplete,
  };
}

function supplierWebhooks(reports: DeliveryReport[]): SupplierWebhooks {
  const byType: Record<string, number> = {};
  for (const report of reports) byType[report.type] = (byType[report.type] ?? 0) + 1;
  return {
    events: reports.length, byType,
    delivered: reports.filter((report) => report.outcome === 'delivered').length,
    notDelivered: reports.filter((report) => report.outcome !== 'delivered').length,
    retries: reports.reduce((sum, report) => sum + Math.max(0, report.attempts.length - 1), 0),
    attempt: distribution(reports.flatMap((report) => report.attempts.map((attempt) => attempt.durationMs))),
  };
}
