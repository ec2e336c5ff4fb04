import { sql, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { JobHandler } from '../../jobs/work-queue.ts';
import { supplierEventProblem, type SupplierEvent } from '../supplier-api.types.ts';
import { alertUnknownSupplierOrder } from '../supplier-alerts.ts';
import type { SupplierDeps } from '../supplier-deps.ts';
import { applySupplierOrder } from '../supplier-progress.ts';
import type { ProcessSupplierEventJob } from '../supplier-queues.ts';
import { prepared } from '../../db/kysely.ts';
import { storableText } from '../../webhooks/storable-json.ts';
import { refuseStoredEvent } from '../../webhooks/webhook-inbox.ts';

/**
 * supplier__process_event: applies one stored supplier webhook
 * (webhook_events row, provider 'supplier') to its order, through the code
 * every report of the supplier goes through. The row is locked for the whole
 * transaction and marked processed in it: a second copy of the job waits,
 * then finds it processed. A failure rolls back, is noted on the row, and is
 * retried. An event about an order we do not know is no failure: it is marked
 * processed with a note, alerted once per external id, and not retried.
 */
export function processSupplierEventJob(deps: SupplierDeps): JobHandler<ProcessSupplierEventJob> {
  return async ({ webhookEventId }, { log }) => {
    try {
      return await deps.db.transaction().execute(async (trx) => {
        const row = await trx.selectFrom('webhook_events').select(['id', 'event_id', 'type', 'payload', 'processed_at'])
          .where('id', '=', webhookEventId).where('provider', '=', 'supplier').forUpdate().modifyEnd(prepared).executeTakeFirst();
        if (!row) {
          log.warn({ webhookEventId }, 'no such supplier event: nothing to do');
          return 'missing';
        }
        if (row.processed_at) return 'already processed';
        const eventLog = log.child({ eventId: row.event_id, eventType: row.type });
        const problem = supplierEventProblem(row.payload);
        if (problem) {
          await refuseStoredEvent(trx, row.id, problem);
          eventLog.warn({ refusedReason: problem }, 'stored supplier event refused: not an event the workflow can apply');
          return 'refused';
        }
        const event = row.payload as SupplierEvent;
        const outcome = await applySupplierOrder(trx, { ...deps, log: eventLog }, event.data.order, { source: event.id, shipment: event.data.shipment });
        if (outcome === 'unknown_order') {
          const externalId = event.data.order.external_id;
          await alertUnknownSupplierOrder(trx, deps, externalId, event.id);
          await markProcessed(trx, row.id, outcome, `no order of ours has external_id ${externalId}: stored, alerted, not applied`);
          eventLog.warn({ externalId }, 'supplier event for an unknown order');
          return outcome;
        }
        await markProcessed(trx, row.id, outcome, null);
        eventLog.info({ outcome }, 'supplier event processed');
        return outcome;
      });
    } catch (error) {
      await deps.db.updateTable('webhook_events').set({ processing_error: storableText(String((error as Error).message ?? error).slice(0, 2000)) })
        .where('id', '=', webhookEventId).execute().catch(() => {});
      throw error;
    }
  };
}

async function markProcessed(trx: Transaction<Database>, id: string, outcome: string, note: string | null): Promise<void> {
  await trx.updateTable('webhook_events').set({ processed_at: sql`now()`, outcome, processing_error: note }).where('id', '=', id).modifyEnd(prepared).execute();
}
