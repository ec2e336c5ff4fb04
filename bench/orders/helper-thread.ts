/**
 * The helper thread: the gateway sandbox, the mail sandbox and, with phase 5
 * or 6, the supplier sandbox (the outside world: in production none runs in
 * the web process), the mailbox watcher and the paced webhook client. A thread
 * of the benchmark's process, so the app on the main thread has its event loop
 * to itself, as in production, and the sandboxes' CPU time is counted as theirs.
 * The main thread drives the supplier sandbox through its control API (HTTP).
 *
 * Messages in: { call, id, args } for 'pay', 'webhookLoad', 'deliveries', 'pollMail',
 * 'close'. Messages out: { ready }, { mail, missed }, { id, result | error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { gatewaySandboxClient, type DeliveryReport } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox } from '../../src/sandboxes/gateway/gateway-sandbox.ts';
import { SUBSCRIBED_EVENT_TYPES } from '../../src/orders/stripe-events.ts';
import { startMailSandbox } from '../../src/sandboxes/mail/mail-sandbox.ts';
import type { DelaysMs } from '../../src/sandboxes/supplier/supplier-context.ts';
import { startSupplierSandbox } from '../../src/sandboxes/supplier/supplier-sandbox.ts';
import { watchMailbox } from './mailbox-watch.ts';
import { runWebhookLoad, type WebhookLoadOptions } from './webhook-client.ts';

export interface HelperSettings {
  webhookSecret: string;
  webhookConcurrency: number;
  /** Phases 5 and 6: the supplier sandbox's credentials, its delays to start with and its webhook deliveries in flight. */
  supplier?: { apiToken: string; webhookSecret: string; delaysMs: DelaysMs; webhookConcurrency: number };
}

/** What the gateway did with the events since the last call. */
export interface DeliverySummary {
  events: number;
  delivered: number;
  notDelivered: number;
  /** Attempts after a first one that failed (non-2xx or no answer). */
  retries: number;
  /** Each attempt's duration at the gateway, ms (the receiver's answer time plus the network). */
  attemptMs: number[];
  /**
   * How long each checkout.session.completed waited in the gateway's delivery
   * queue: from the pay request to the start of its first attempt, ms. Long
   * waits beside short attempts would mean the delivery concurrency limits.
   */
  queueWaitMs: number[];
}

export interface PayRequest {
  sessionIds: string[];
  inFlight: number;
}

export interface PayOutcome {
  /** ms since the epoch, when the pay request left. */
  at: number;
  error: string | null;
}

const port = parentPort!;
const settings = workerData as HelperSettings;

// The endpoint subscribes to the event types the shop handles, as it would at Stripe.
const gateway = await startGatewaySandbox({ webhookSecret: settings.webhookSecret, webhookConcurrency: settings.webhookConcurrency, enabledEvents: SUBSCRIBED_EVENT_TYPES });
const mail = await startMailSandbox();
const supplier = settings.supplier ? await startSupplierSandbox(settings.supplier) : undefined;
const mailbox = watchMailbox(mail.httpUrl, (messages, missed) => port.postMessage({ mail: messages, missed }));
const control = gatewaySandboxClient(gateway.url);
let eventsSummarised = 0;
/** checkout session id → when its pay request left (ms since the epoch). */
const paidAt = new Map<string, number>();

async function deliveries(): Promise<DeliverySummary> {
  const reports: DeliveryReport[] = await control.events();
  const fresh = reports.slice(eventsSummarised);
  eventsSummarised = reports.length;
  return {
    events: fresh.length,
    delivered: fresh.filter((report) => report.outcome === 'delivered').length,
    notDelivered: fresh.filter((report) => report.outcome !== 'delivered').length,
    retries: fresh.reduce((sum, report) => sum + Math.max(0, report.attempts.length - 1), 0),
    attemptMs: fresh.flatMap((report) => report.attempts.map((attempt) => attempt.durationMs)),
    queueWaitMs: fresh.flatMap((report) => {
      const first = report.attempts[0];
      const payAt = report.type === 'checkout.session.completed' ? paidAt.get((report.event.data.object as { id: string }).id) : undefined;
      return first && payAt !== undefined ? [Date.parse(first.at) - first.durationMs - payAt] : [];
    }),
  };
}

/** The customer presses Pay (the control API), `inFlight` sessions at a time; returns when each was asked, or the error. */
async function pay({ sessionIds, inFlight }: PayRequest): Promise<PayOutcome[]> {
  const outcomes: PayOutcome[] = new Array(sessionIds.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, sessionIds.length) }, async () => {
    for (let i = next++; i < sessionIds.length; i = next++) {
      const at = Date.now();
      paidAt.set(sessionIds[i]!, at);
      try {
        const { outcome } = await control.pay(sessionIds[i]!);
        outcomes[i] = { at, error: outcome === 'paid' ? null : `the gateway says ${outcome}` };
      } catch (error) {
        outcomes[i] = { at, error: (error as Error).message };
      }
    }
  }));
  return outcomes;
}

const calls: Record<string, (args: unknown) => Promise<unknown>> = {
  pay: (args) => pay(args as PayRequest),
  webhookLoad: (args) => runWebhookLoad(args as WebhookLoadOptions),
  deliveries: () => deliveries(),
  pollMail: () => mailbox.poll(),
  async close() {
    await mailbox.stop();
    await supplier?.close();
    await gateway.close();
    await mail.close();
  },
};

port.on('message', (message: { call: string; id: number; args?: unknown }) => {
  const call = calls[message.call];
  if (!call) {
    port.postMessage({ id: message.id, error: `no such call: ${message.call}` });
    return;
  }
  call(message.args).then(
    (result) => port.postMessage({ id: message.id, result }),
    (error: unknown) => port.postMessage({ id: message.id, error: (error as Error)?.stack ?? String(error) }),
  );
});

port.postMessage({ ready: { gatewayUrl: gateway.url, smtpUrl: mail.smtpUrl, mailUrl: mail.httpUrl, supplierUrl: supplier?.url } });
