/** Constants, options and result shapes shared by the order workflow benchmark's parts. */

export const DATABASE_NAME = 'tanktop_bench_orders';

/** The catalogue: small, as a shop's is; customers both known and new. */
export const CATALOGUE = { agents: 20, products: 500, customers: 3_000, seed: 42 } as const;
/** Share of orders by a customer already in the database (the rest are new, one per order). */
export const KNOWN_CUSTOMER_SHARE = 0.5;
/** Share of orders that come through a sales agent's referral code. */
export const REFERRAL_SHARE = 0.3;

/** The targets. */
export const TARGETS = { ordersPerSecond: 100, fixedRateP99Ms: 2_000, webhookP99Ms: 20, backlogSeconds: 120 } as const;

/** Phase 5: the share of supplier API calls the sandbox answers 5xx. */
export const SUPPLIER_FAIL_RATE = 0.2;
/**
 * The supplier sandbox's production, shipping and delivery delays outside
 * phase 6 (its maximum, 24 h): the orders it accepts stay pending (one
 * order.accepted webhook each), as phase 5 wants them.
 */
export const SUPPLIER_PARKED_DELAY_MS = 24 * 3600 * 1000;
/** Phase 6: every n-th order the supplier accepts ships in two packages (when it has two units): partially_shipped, two shipment e-mails. */
export const DELIVERY_SPLIT_EVERY = 4;

/** The queues whose depth is sampled (the order's path through the worker). */
export const SAMPLED_QUEUES = ['stripe__process_event', 'invoice__render_pdf', 'email__send'] as const;
/** Phase 6 samples the supplier's queues too. */
export const DELIVERY_SAMPLED_QUEUES = [...SAMPLED_QUEUES, 'supplier__submit_order', 'supplier__process_event'] as const;
export const SAMPLE_INTERVAL_MS = 500;

/** Checkouts created at once before the as-fast-as-possible phase (the web pool has 10 connections). */
export const CHECKOUT_CONCURRENCY = 8;
/** Orders of the warm-up before the measured phases (--warm-up). */
export const WARM_UP_ORDERS = 200;
/** Orders started by the fixed-rate phase but not finished checking out and paying: past this the pacer waits. */
export const MAX_OPEN_ORDERS = 500;

export class UsageError extends Error {}

/** With --via-pgbouncer: PgBouncer's server connections to the bench database (transaction mode; a few per core, as one would size it). */
export const PGBOUNCER_POOL_SIZE = 20;

/**
 * Where the web side and the jobs run. `web` undefined: the app in the
 * benchmark's process and one worker process (the shape before --web). With
 * a number: that many `node src/server.ts` processes and `workers` worker
 * processes, directly on Postgres or through a PgBouncer in transaction mode.
 */
export interface Deployment {
  web: number | undefined;
  workers: number;
  viaPgBouncer: boolean;
}

/** "2/4", "2/2 via PgBouncer", "in-process/1". */
export function deploymentLabel(deployment: Deployment): string {
  return `${deployment.web ?? 'in-process'}/${deployment.workers}${deployment.viaPgBouncer ? ' via PgBouncer' : ''}`;
}

export interface BenchOptions {
  /** Which of phases 1, 2, 4, 5 and 6 run (3, the queue depth, is sampled during 1, 2, 4 and 6). */
  phases: Set<number>;
  /** Orders in all, split between the fixed-rate and the as-fast-as-possible phase. */
  orders: number;
  /** Orders per second of the fixed-rate phase. */
  rate: number;
  /** Payments in flight at once in the as-fast-as-possible phase. */
  inFlight: number;
  webhookRate: number;
  webhookSeconds: number;
  /** The gateway sandbox's webhook deliveries in flight. */
  webhookConcurrency: number;
  /** Orders through the flow before the measured phases, then ANALYZE (0: none). */
  warmUp: number;
  /** Phase 5: paid orders in the supplier backlog. */
  backlog: number;
  /** Phase 6: orders paid as fast as possible and followed to delivery. */
  delivered: number;
  /** How long a phase may take to complete after its last payment before it is given up. */
  drainTimeoutSeconds: number;
  logLevel: string;
  logFile: string;
  /** Phase 4 with the worker paused (SIGSTOP) during the load. */
  webhooksAlone: boolean;
  /** Count the statements of the web side (per phase) and of the worker (whole run), by text. */
  countQueries: boolean;
  /** CPU profiles of the web side (this process's main thread, or the web processes) and of the workers go into this directory. */
  profileDir: string | undefined;
  /** --web, --workers, --via-pgbouncer. */
  deployment: Deployment;
  /** --compare: each of these run alternately with the 1/1 direct baseline, --rounds times. */
  compare: Deployment[] | undefined;
  rounds: number;
}

/** One order's milestones, ms since the epoch (null: not reached). */
export interface OrderTimeline {
  orderId: string;
  number: string;
  /** When the benchmark asked the gateway to pay it. */
  payAt: number;
  /** The first of its webhooks stored (webhook_events.received_at). */
  webhookAt: number | null;
  /** orders.paid_at: now() of the transaction that applied the payment (its start). */
  paidAt: number | null;
  /** invoice_documents.rendered_at: now() of the transaction that stored the PDF. */
  renderedAt: number | null;
  /** email_outbox.sent_at: now() of the sending transaction, which starts before the SMTP exchange. */
  sendStartedAt: number | null;
  messageId: string | null;
  /** When the mail sandbox stored the message (its receivedAt). */
  deliveredAt: number | null;
}

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface WorkflowPhaseResult {
  key: 'fixed' | 'afap';
  title: string;
  orders: number;
  /** Orders whose invoice e-mail reached the mailbox. */
  completed: number;
  /** Payments made per second (the offered load). */
  payRate: number;
  /** Completed orders per second: orders ÷ (last delivery − first payment). */
  completedPerSecond: number;
  /** Completions per second between the 10th and the 90th percentile of completion times. */
  steadyPerSecond: number;
  /** Webhook stored → e-mail in the mailbox. */
  webhookToEmail: Distribution;
  /** Payment asked → e-mail in the mailbox. */
  payToEmail: Distribution;
  /** Per stage, p50/p99: pay→webhook stored, →paid, →PDF stored, →send started, →delivered. */
  stages: { label: string; distribution: Distribution }[];
  /** Webhook endpoint, server side (reply.elapsedTime) during the phase. */
  webhookServer: Distribution;
  seconds: number;
  /** Checkouts: created per second and their latency (the as-fast-as-possible phase creates them up front). */
  checkout: { perSecond: number; latency: Distribution };
}

export interface WebhookLoadResult {
  requests: number;
  seconds: number;
  achievedRate: number;
  non2xx: number;
  errors: number;
  client: Distribution;
  server: Distribution;
  /** How far behind its schedule the client sent, at worst (ms). */
  maxSendLag: number;
  /** Stored events processed by the worker once the load ended, and how long that took. */
  processedAfterMs: number;
  eventKind: string;
}

export interface QueueSample {
  /** ms since the phase started. */
  at: number;
  /** queue → [waiting (created + retry), active] */
  depth: Record<string, [number, number]>;
}

export interface Verification {
  phase: string;
  lost: number;
  duplicated: number;
  /** Each non-zero finding, as a sentence fragment. */
  findings: string[];
  ok: boolean;
}
