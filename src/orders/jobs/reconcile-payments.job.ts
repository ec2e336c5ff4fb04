import { sql } from 'kysely';
import type { JobHandler } from '../../jobs/work-queue.ts';
import { Queues, type ProcessStripeEventJob, type ReconcilePaymentsJob } from '../order-queues.ts';
import { syncOrderWithGateway } from '../payment-sync.ts';
import { workflowDeps, type OrderJobDeps } from './order-jobs.deps.ts';

const BATCH = 100;
/** A stored webhook unprocessed this long has no live job (stored by a process without a queue, or dead-lettered). */
const INBOX_SWEEP_AFTER_SECONDS = 60;

/**
 * order__reconcile_payments (scheduled): the safety net for lost webhooks.
 * Orders still waiting for their payment after ORDER_RECONCILE_AFTER_MINUTES
 * are looked up at the gateway and brought to what it says, through the
 * webhook's own code; inbox rows never processed (stored by a process
 * without a job queue) get their job again. Each order is its own
 * transaction: one gateway error does not stop the others, and the next run
 * tries again.
 */
export function reconcilePaymentsJob(deps: OrderJobDeps): JobHandler<ReconcilePaymentsJob> {
  return async (data, { jobId, log }) => {
    const olderThanSeconds = data.olderThanSeconds ?? deps.config.orders.reconcileAfterMinutes * 60;
    const cutoff = sql<Date>`now() - make_interval(secs => ${olderThanSeconds})`;

    const inboxCutoff = sql<Date>`now() - make_interval(secs => ${Math.min(olderThanSeconds, INBOX_SWEEP_AFTER_SECONDS)})`;
    // Only the gateway's events: the supplier's have their own job (and polling).
    const unprocessed = await deps.db.selectFrom('webhook_events').select('id')
      .where('provider', '=', 'stripe').where('processed_at', 'is', null).where('received_at', '<', inboxCutoff).orderBy('id').limit(BATCH).execute();
    let requeued = 0;
    for (const { id } of unprocessed) {
      const job: ProcessStripeEventJob = { webhookEventId: id };
      // One waiting or running job is enough (processing is idempotent, but need not pile up).
      const pending = await deps.boss.findJobs(Queues.processStripeEvent, { data: job });
      if (pending.some((existing) => existing.state === 'created' || existing.state === 'retry' || existing.state === 'active')) continue;
      await deps.boss.send(Queues.processStripeEvent, job);
      requeued++;
    }

    const waiting = await deps.db.selectFrom('orders').select('id')
      .where('payment_state', 'in', ['pending_payment', 'payment_processing', 'payment_failed'])
      .where('checkout_session_id', 'is not', null)
      .where('needs_review', '=', false)
      .where('updated_at', '<', cutoff)
      .orderBy('updated_at').limit(BATCH).execute();
    const outcomes: Record<string, number> = {};
    for (const { id } of waiting) {
      const orderLog = log.child({ orderId: id });
      try {
        const outcome = await syncOrderWithGateway(workflowDeps(deps, orderLog), id, { source: `reconcile:${jobId}` });
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        if (outcome !== 'open') orderLog.info({ outcome }, 'payment reconciled with the gateway');
      } catch (error) {
        outcomes.error = (outcomes.error ?? 0) + 1;
        orderLog.warn({ err: error }, 'the gateway could not be asked about this order; the next run tries again');
      }
    }
    return { requeuedEvents: requeued, orders: outcomes };
  };
}
