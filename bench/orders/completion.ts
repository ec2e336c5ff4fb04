/**
 * Waits until an e-mail of every order of a phase is in the mailbox (the
 * invoice, or in phase 6 the "delivered" one, by email_outbox.purpose): the
 * outbox says which Message-ID each order's e-mail has (looked up for the
 * orders that have none yet), the mailbox watcher says which arrived.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { Mailbox } from './helper.ts';
import { note } from './progress.ts';
import { depthLine, type DepthSampler } from './queue-depth.ts';

const CHECK_MS = 500;
const PROGRESS_MS = 5_000;
/** No e-mail for this long while stored webhooks fail to process: the phase is stuck, not slow. */
const STALL_MS = 30_000;

export interface CompletionOutcome {
  delivered: number;
  timedOut: boolean;
  /** The first processing error of a webhook, when the phase gave up because processing kept failing. */
  stalledOn?: string;
}

/** The e-mail that completes an order: its invoice (phases 1 and 2) or its "delivered" e-mail (phase 6). */
export type CompletingEmail = 'invoice' | 'delivered';

export async function waitForEmails(pool: pg.Pool, label: string, orderIds: string[], mailbox: Mailbox, sampler: DepthSampler,
  deadline: number, signal: AbortSignal, purpose: CompletingEmail = 'invoice'): Promise<CompletionOutcome> {
  const messageIds = new Map<string, string>();
  let lastProgress = performance.now();
  let lastDelivered = -1;
  let lastChange = performance.now();
  for (;;) {
    const missing = orderIds.filter((id) => !messageIds.has(id));
    if (missing.length > 0) {
      const { rows } = await pool.query<{ order_id: string; message_id: string }>(
        `/* bench */ select order_id::text, message_id from email_outbox where order_id = any($1::bigint[]) and purpose = $2`, [missing, purpose]);
      for (const row of rows) messageIds.set(row.order_id, row.message_id);
    }
    const delivered = [...messageIds.values()].filter((id) => mailbox.received.has(id)).length;
    if (delivered >= orderIds.length) return { delivered, timedOut: false };
    if (signal.aborted) return { delivered, timedOut: false };
    if (performance.now() > deadline) return { delivered, timedOut: true };
    if (delivered !== lastDelivered) {
      lastDelivered = delivered;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS) {
      const { rows: [failing] } = await pool.query<{ n: string; error: string | null }>(
        `/* bench */ select count(*) as n, min(processing_error) as error from webhook_events where processing_error is not null and processed_at is null`);
      if (Number(failing!.n) > 0) return { delivered, timedOut: true, stalledOn: `${failing!.n} webhooks failing, e.g. "${failing!.error}"` };
    }
    if (performance.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = performance.now();
      note(`${label}: ${delivered} / ${orderIds.length} ${purpose} e-mails delivered, ${messageIds.size} queued; ${depthLine(sampler.latest())}`);
    }
    await sleep(CHECK_MS, undefined, { signal }).catch(() => {});
  }
}
