import { sql } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { raiseAlert } from '../alerts/raise-alert.ts';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Db } from '../db/kysely.ts';
import { prepared } from '../db/kysely.ts';

export type WebhookProvider = 'stripe' | 'supplier';

export interface InboxEvent {
  provider: WebhookProvider;
  eventId: string;
  type: string;
  /** The payload as read and made storable (src/webhooks/storable-json.ts); undefined when the body is not JSON. */
  payload: unknown;
  /** The body as received, kept when the payload is not a faithful copy of it (or there is none). */
  rawBody: Buffer | null;
  /** Why a signed event is refused (its shape); null when it is accepted. */
  refusedReason: string | null;
}

const PROVIDER_NAMES: Record<WebhookProvider, string> = { stripe: 'payment gateway', supplier: 'supplier' };

/**
 * The webhook inbox: stores a verified event and enqueues its processing job
 * in one transaction, so an acknowledged event always has its job. A
 * provider's repeat delivery hits the unique (provider, event id) and
 * enqueues nothing. Returns the stored row's id, or undefined for a repeat.
 * Without a job queue (a process that has none), the event is stored and the
 * reconcile/poll jobs pick it up later.
 *
 * A refused event (signed, but of a shape no processor can apply) is stored
 * processed, with its reason and outcome 'refused', and no job: nothing will
 * ever retry it. The team hears of it once per provider and re-notify window
 * (incident webhook_refused:<provider>), as the row may be a payment or a
 * parcel someone has to apply by hand.
 */
export async function storeWebhookEvent(db: Db, boss: Pick<PgBoss, 'send'> | undefined, queue: string, event: InboxEvent): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const values = {
      provider: event.provider,
      event_id: event.eventId,
      type: event.type,
      payload: event.payload === undefined ? null : JSON.stringify(event.payload),
      raw_body: event.rawBody,
    };
    const insert = event.refusedReason === null
      ? trx.insertInto('webhook_events').values(values)
      : trx.insertInto('webhook_events').values({ ...values, processed_at: sql`now()`, outcome: 'refused', refused_reason: event.refusedReason });
    const row = await insert
      .onConflict((conflict) => conflict.columns(['provider', 'event_id']).doNothing())
      .returning('id')
      .modifyEnd(prepared)
      .executeTakeFirst();
    if (!row || !boss) return row?.id;
    if (event.refusedReason === null) {
      await boss.send(queue, { webhookEventId: row.id }, { db: jobsIn(trx) });
    } else {
      // Title and text are ours: the event's own fields (type, id) are the provider's words and stay in the row.
      await raiseAlert(trx, boss, {
        incidentKey: `webhook_refused:${event.provider}`,
        severity: 'warning',
        title: `A signed ${PROVIDER_NAMES[event.provider]} webhook was refused: ${event.refusedReason}`,
        text: `webhook_events row ${row.id} (provider ${event.provider}) was stored as refused and acknowledged, so it is not resent; no job will process it. `
          + 'Its payload (and raw_body, when kept) is there to read; apply what it says by hand if it matters.',
      });
    }
    return row.id;
  });
}

/**
 * A stored event its job finds malformed (the receiver checks it; a row
 * written some other way must not be retried forever): processed, refused,
 * with why.
 */
export async function refuseStoredEvent(trx: Db, webhookEventId: string, reason: string): Promise<void> {
  await trx.updateTable('webhook_events').set({ processed_at: sql`now()`, outcome: 'refused', refused_reason: reason, processing_error: null })
    .where('id', '=', webhookEventId).execute();
}
