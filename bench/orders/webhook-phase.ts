/**
 * (4) The webhook endpoint alone at a fixed rate (default 200 requests/s for
 * 15 s), from the paced client in the helper thread. The events are replays,
 * under fresh event ids, of the checkout.session.completed events the gateway
 * sent for orders paid earlier: each is verified, stored and enqueued like
 * any new event, and the worker then applies it and finds the payment
 * already recorded ('duplicate'), so the load leaves the orders as they were
 * and the check can say so. Without paid orders (nothing to replay), events
 * of a type the shop does not handle are sent instead ('ignored: …').
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuUsage, type CpuUsage } from './cpu.ts';
import type { BenchOptions, QueueSample, Verification, WebhookLoadResult } from './model.ts';
import { int, note } from './progress.ts';
import { depthLine, sampleQueueDepth } from './queue-depth.ts';
import type { Stack } from './stack.ts';
import { distribution } from './stats.ts';
import { verifyWebhooks, workflowTotals } from './verify.ts';

const UNKNOWN_TYPE = 'bench.unhandled_event';
const MAX_TEMPLATES = 500;

export interface WebhookPhaseOutput {
  result: WebhookLoadResult;
  samples: QueueSample[];
  verification: Verification;
  problems: string[];
  /** CPU time by component from the first request until the worker processed the last event. */
  cpu: CpuUsage | undefined;
}

export async function webhookPhase(stack: Stack, options: BenchOptions, signal: AbortSignal): Promise<WebhookPhaseOutput> {
  const { rows } = await stack.pool.query<{ payload: Record<string, unknown> }>(
    `select payload from webhook_events where type = 'checkout.session.completed' and processed_at is not null order by id limit $1`, [MAX_TEMPLATES]);
  const replay = rows.length > 0;
  const templates = replay ? rows.map((row) => row.payload)
    : [{ object: 'event', api_version: '2025-01-27.acacia', data: { object: { id: 'obj_bench', object: 'bench' } }, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type: UNKNOWN_TYPE }];
  const eventKind = replay
    ? `replays of ${int(rows.length)} checkout.session.completed events of paid orders, fresh ids (processed as 'duplicate')`
    : `events of an unhandled type (${UNKNOWN_TYPE}; processed as 'ignored')`;
  const expectedOutcome = replay ? 'duplicate' : `ignored: ${UNKNOWN_TYPE}`;
  note(`(4) webhooks: ${options.webhookRate} requests/s for ${options.webhookSeconds} s: ${eventKind}`);

  const problems: string[] = [];
  const { rows: [queued] } = await stack.pool.query<{ n: string }>(`/* bench */ select count(*) as n from email_outbox where status = 'queued'`);
  if (Number(queued!.n) > 0) problems.push(`phase 4 started with ${int(Number(queued!.n))} e-mails of earlier phases still queued: the worker was sending them meanwhile`);
  // Earlier webhooks still waiting for the worker will change the totals during this phase: then the
  // replays are checked by their outcome alone.
  const { rows: [waiting] } = await stack.pool.query<{ n: string }>(`/* bench */ select count(*) as n from webhook_events where processed_at is null`);
  const before = Number(waiting!.n) === 0 ? await workflowTotals(stack.pool) : undefined;
  if (!before) problems.push(`phase 4 started with ${int(Number(waiting!.n))} webhooks of earlier phases unprocessed: whether the replays changed no order was not checked (their outcomes were)`);
  const sampler = await sampleQueueDepth(stack.url);
  stack.webhookTimes.take();
  const cpuFrom = stack.cpu();
  if (options.webhooksAlone) {
    note('(4) webhooks: the worker is paused (SIGSTOP) during the load (--webhooks-alone)');
    stack.worker.pause();
  }
  let raw;
  try {
    raw = await stack.helper.webhookLoad({
      url: `${stack.appUrl}/webhooks/stripe`, secret: stack.config.stripe.webhookSecret, rate: options.webhookRate,
      seconds: options.webhookSeconds, templates, idPrefix: `evt_bench_${Date.now().toString(36)}`,
    });
  } finally {
    if (options.webhooksAlone) stack.worker.resume();
  }
  const server = distribution(stack.webhookTimes.take());
  const accepted = Object.entries(raw.statuses).filter(([status]) => Number(status) >= 200 && Number(status) < 300).reduce((sum, [, n]) => sum + n, 0);
  note(`(4) webhooks: ${int(raw.requests)} sent, ${int(accepted)} answered 2xx; waiting for the worker to process them`);

  const loadEnded = performance.now();
  const deadline = loadEnded + options.drainTimeoutSeconds * 1000;
  let lastProgress = loadEnded;
  let unprocessed = Infinity;
  let lastChange = performance.now();
  while (!signal.aborted) {
    const { rows: [row] } = await stack.pool.query<{ n: string; failing: string; error: string | null }>(
      `/* bench */ select count(*) as n, count(processing_error) as failing, min(processing_error) as error
       from webhook_events where event_id = any($1) and processed_at is null`, [raw.eventIds]);
    if (Number(row!.n) !== unprocessed) lastChange = performance.now();
    unprocessed = Number(row!.n);
    if (unprocessed === 0) break;
    if (performance.now() - lastChange > 30_000 && Number(row!.failing) > 0) {
      problems.push(`gave up with ${int(unprocessed)} events unprocessed: none was processed for 30 s, and ${row!.failing} fail, e.g. "${row!.error}"`);
      break;
    }
    if (performance.now() > deadline) {
      problems.push(`${int(unprocessed)} replayed events were not processed ${options.drainTimeoutSeconds} s after the load`);
      break;
    }
    if (performance.now() - lastProgress > 5_000) {
      lastProgress = performance.now();
      note(`(4) webhooks: ${int(unprocessed)} stored events to process; ${depthLine(sampler.latest())}`);
    }
    await sleep(250);
  }
  const processedAfterMs = performance.now() - loadEnded;
  const cpu = cpuUsage(cpuFrom, stack.cpu());
  const samples = await sampler.stop();
  const verification = await verifyWebhooks(stack.pool, raw.eventIds, accepted, expectedOutcome, before, stack.helper.mailbox);
  const result: WebhookLoadResult = {
    requests: raw.requests, seconds: raw.seconds, achievedRate: raw.requests / raw.seconds,
    non2xx: raw.requests - accepted - raw.errors, errors: raw.errors,
    client: distribution(raw.latencies), server, maxSendLag: raw.maxSendLag, processedAfterMs,
    eventKind: options.webhooksAlone ? `${eventKind}; the worker paused during the load` : eventKind,
  };
  note(`(4) webhooks: server p50 ${result.server.p50.toFixed(1)} ms, p99 ${result.server.p99.toFixed(1)} ms; client p99 ${result.client.p99.toFixed(1)} ms`);
  return { result, samples, verification, problems, cpu };
}
