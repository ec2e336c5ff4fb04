import { Gauge, type Registry } from 'prom-client';
import { states as jobStates } from 'pg-boss';
import type { EmailStatus } from '../email/email.schema.ts';
import { FULFILMENT_STATES, PAYMENT_STATES } from '../orders/order-states.ts';
import { WEBHOOK_EVENT_STATUSES, type JobCount, type WorkflowCounts } from './metrics.repository.ts';

/** A compile error when EmailStatus gains a value this list lacks. */
const EMAIL_STATUSES = Object.keys({ queued: true, sent: true, failed: true } satisfies Record<EmailStatus, true>);
/** pg-boss's job states but completed (see countJobs). */
const JOB_STATES = Object.values(jobStates).filter((state) => state !== jobStates.completed);
/** Webhook providers shown at 0 before their first event. */
const WEBHOOK_PROVIDERS = ['stripe', 'supplier'];

export interface DatabaseGauges {
  /** Replaces every value with the counts of one scrape; series the counts lack are 0. */
  set(workflow: WorkflowCounts, jobs: readonly JobCount[]): void;
}

/**
 * The gauges read from the database at scrape time, in the app's own
 * registry. Every known label combination is present, at 0 when nothing is
 * counted (an alert on `> 0` needs the series to exist, and a series that
 * vanishes reads as "no data", not as zero); combinations the code does not
 * know but the database holds (a state added by a migration first) appear too.
 * Queues are the ones passed in: every queue of allQueues, so a feature's new
 * queues appear when it adds them there.
 */
export function createDatabaseGauges(registry: Registry, queues: readonly string[]): DatabaseGauges {
  const registers = [registry];
  const orders = new Gauge({
    name: 'tanktop_orders',
    help: 'Orders by payment state and fulfilment state.',
    labelNames: ['payment_state', 'fulfilment_state'] as const,
    registers,
  });
  const queueJobs = new Gauge({
    name: 'tanktop_queue_jobs',
    help: 'Jobs in pg-boss by queue and state (created: waiting or deferred, retry: waiting for a retry, active, failed: gave up, cancelled); completed jobs are not counted.',
    labelNames: ['queue', 'state'] as const,
    registers,
  });
  // A gauge, so no _total: pg-boss deletes failed jobs after their retention, so the number can fall, which a counter must not.
  const jobsFailed = new Gauge({
    name: 'tanktop_jobs_failed',
    help: 'Jobs that failed their last attempt and are still kept by pg-boss (its retention: a rolling window, not an all-time total), by queue. Read from the database: survives restarts.',
    labelNames: ['queue'] as const,
    registers,
  });
  const webhookEvents = new Gauge({
    name: 'tanktop_webhook_events',
    help: 'Stored webhooks by provider and status (received: not yet processed, processed, failed: the last attempt failed, retried by its job, refused: signed but malformed, never processed, kept for a person).',
    labelNames: ['provider', 'status'] as const,
    registers,
  });
  const emailOutbox = new Gauge({
    name: 'tanktop_email_outbox',
    help: 'E-mails in the outbox by status (queued, sent, failed: gave up after the last retry).',
    labelNames: ['status'] as const,
    registers,
  });

  return {
    set(workflow, jobs) {
      // Synchronous from reset to the last set: a concurrent scrape never serialises a half-filled gauge.
      for (const gauge of [orders, queueJobs, jobsFailed, webhookEvents, emailOutbox]) gauge.reset();
      for (const payment_state of PAYMENT_STATES) {
        for (const fulfilment_state of FULFILMENT_STATES) orders.set({ payment_state, fulfilment_state }, 0);
      }
      for (const row of workflow.orders) orders.set({ payment_state: row.paymentState, fulfilment_state: row.fulfilmentState }, row.count);

      for (const queue of queues) {
        for (const state of JOB_STATES) queueJobs.set({ queue, state }, 0);
        jobsFailed.set({ queue }, 0);
      }
      for (const { queue, state, count } of jobs) {
        queueJobs.set({ queue, state }, count);
        if (state === jobStates.failed) jobsFailed.set({ queue }, count);
      }

      const providers = new Set([...WEBHOOK_PROVIDERS, ...workflow.webhookEvents.map((row) => row.provider)]);
      for (const provider of providers) {
        for (const status of WEBHOOK_EVENT_STATUSES) webhookEvents.set({ provider, status }, 0);
      }
      for (const { provider, status, count } of workflow.webhookEvents) webhookEvents.set({ provider, status }, count);

      for (const status of EMAIL_STATUSES) emailOutbox.set({ status }, 0);
      for (const { status, count } of workflow.emailOutbox) emailOutbox.set({ status }, count);
    },
  };
}
