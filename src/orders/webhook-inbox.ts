import type { PgBoss } from 'pg-boss';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Db } from '../db/kysely.ts';
import { prepared } from '../db/kysely.ts';

export interface InboxEvent {
  provider: 'stripe' | 'supplier';
  eventId: string;
  type: string;
  /** The raw body as received (verified), kept as the payload. */
  body: Buffer;
}

/**
 * The webhook inbox: stores a verified event and enqueues its processing job
 * in one transaction, so an acknowledged event always has its job. A
 * provider's repeat delivery hits the unique (provider, event id) and
 * enqueues nothing. Returns the stored row's id, or undefined for a repeat.
 * Without a job queue (a process that has none), the event is stored and the
 * reconcile/poll jobs pick it up later.
 */
export async function storeWebhookEvent(db: Db, boss: Pick<PgBoss, 'send'> | undefined, queue: string, event: InboxEvent): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.insertInto('webhook_events')
      .values({ provider: event.provider, event_id: event.eventId, type: event.type, payload: event.body.toString('utf8') })
      .onConflict((conflict) => conflict.columns(['provider', 'event_id']).doNothing())
      .returning('id')
      .modifyEnd(prepared)
      .executeTakeFirst();
    if (row && boss) await boss.send(queue, { webhookEventId: row.id }, { db: jobsIn(trx) });
    return row?.id;
  });
}
