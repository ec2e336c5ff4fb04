import { sql } from 'kysely';
import type Stripe from 'stripe';
import type { JobHandler } from '../../jobs/work-queue.ts';
import type { ProcessStripeEventJob } from '../order-queues.ts';
import { stripeEventProblem } from '../stripe-event-shape.ts';
import { applyStripeEvent } from '../stripe-events.ts';
import { workflowDeps, type OrderJobDeps } from './order-jobs.deps.ts';
import { prepared } from '../../db/kysely.ts';
import { storableText } from '../../webhooks/storable-json.ts';
import { refuseStoredEvent } from '../../webhooks/webhook-inbox.ts';

/**
 * stripe__process_event: applies one stored webhook (webhook_events row) to
 * its order. The row is locked for the whole transaction and marked processed
 * in it, with what was done: a second copy of the job waits, then finds it
 * processed. A failure rolls back, is noted on the row, and is retried.
 */
export function processStripeEventJob(deps: OrderJobDeps): JobHandler<ProcessStripeEventJob> {
  return async ({ webhookEventId }, { log }) => {
    try {
      return await deps.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('webhook_events').select(['id', 'event_id', 'type', 'payload', 'processed_at'])
          .where('id', '=', webhookEventId).where('provider', '=', 'stripe').forUpdate().modifyEnd(prepared).executeTakeFirst();
        if (!row) {
          log.warn({ webhookEventId }, 'no such webhook event: nothing to do');
          return 'missing';
        }
        if (row.processed_at) return 'already processed';
        const eventLog = log.child({ eventId: row.event_id, eventType: row.type });
        const problem = stripeEventProblem(row.payload);
        if (problem) {
          await refuseStoredEvent(trx, row.id, problem);
          eventLog.warn({ refusedReason: problem }, 'stored webhook event refused: not an event the workflow can apply');
          return 'refused';
        }
        const outcome = await applyStripeEvent(trx, workflowDeps(deps, eventLog), row.payload as Stripe.Event);
        await trx.updateTable('webhook_events').set({ processed_at: sql`now()`, outcome, processing_error: null }).where('id', '=', row.id).modifyEnd(prepared).execute();
        eventLog.info({ outcome }, 'webhook event processed');
        return outcome;
      });
    } catch (error) {
      await deps.db.updateTable('webhook_events').set({ processing_error: storableText(String((error as Error).message ?? error).slice(0, 2000)) })
        .where('id', '=', webhookEventId).execute().catch(() => {});
      throw error;
    }
  };
}
