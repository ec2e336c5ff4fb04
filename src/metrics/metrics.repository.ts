import { sql } from 'kysely';
import type { Db } from '../db/kysely.ts';

/**
 * What a webhook_events row is waiting for: its first attempt (received), done
 * (processed), a retry after a failure (failed), or nothing ever (refused: signed
 * but malformed, kept for a person).
 */
export const WEBHOOK_EVENT_STATUSES = ['received', 'processed', 'failed', 'refused'] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/** The pg-boss schema of src/jobs/boss.ts. */
const BOSS_JOB_TABLE = 'pgboss.job';

export interface WorkflowCounts {
  orders: { paymentState: string; fulfilmentState: string; count: number }[];
  webhookEvents: { provider: string; status: WebhookEventStatus; count: number }[];
  emailOutbox: { status: string; count: number }[];
}

export interface JobCount {
  queue: string;
  state: string;
  count: number;
}

interface CountRow {
  source: 'orders' | 'webhook_events' | 'email_outbox';
  a: string;
  b: string | null;
  n: string;
}

/**
 * Orders by state, webhooks by status and e-mails by status: one statement,
 * so one snapshot and one round trip per scrape. Each part reads its whole
 * table (no index makes a count by state cheaper): meant for a scrape every
 * 15-60 s, not every second.
 */
export async function countWorkflow(db: Db): Promise<WorkflowCounts> {
  const { rows } = await sql<CountRow>`
    select 'orders' as source, payment_state as a, fulfilment_state as b, count(*) as n
      from orders group by payment_state, fulfilment_state
    union all
    select 'webhook_events', provider,
           case when refused_reason is not null then 'refused' when processed_at is not null then 'processed' when processing_error is not null then 'failed' else 'received' end,
           count(*)
      from webhook_events group by 2, 3
    union all
    select 'email_outbox', status, null, count(*) from email_outbox group by status`.execute(db);
  const counts: WorkflowCounts = { orders: [], webhookEvents: [], emailOutbox: [] };
  for (const row of rows) {
    // count(*) is a bigint, a string from pg; a count is exact as a double far beyond any table here.
    const count = Number(row.n);
    if (row.source === 'orders') counts.orders.push({ paymentState: row.a, fulfilmentState: row.b!, count });
    else if (row.source === 'webhook_events') counts.webhookEvents.push({ provider: row.a, status: row.b as WebhookEventStatus, count });
    else counts.emailOutbox.push({ status: row.a, count });
  }
  return counts;
}

/**
 * Jobs of the given queues by state, from pg-boss's job table (the parent of
 * its partitions): current at every scrape, with or without a pg-boss instance
 * in this process, one grouped query for all queues. Completed jobs are left
 * out: they are the bulk of the table and say nothing about a backlog. No rows
 * while pg-boss has not created its schema yet (no process has started it).
 */
export async function countJobs(db: Db, queues: readonly string[]): Promise<JobCount[]> {
  const { rows: [table] } = await sql<{ present: boolean }>`select to_regclass(${BOSS_JOB_TABLE}) is not null as present`.execute(db);
  if (!table?.present) return [];
  const { rows } = await sql<{ queue: string; state: string; n: string }>`
    select name as queue, state::text as state, count(*) as n
    from ${sql.table(BOSS_JOB_TABLE)}
    where name = any(${[...queues]}::text[]) and state <> 'completed'
    group by name, state`.execute(db);
  return rows.map(({ queue, state, n }) => ({ queue, state, count: Number(n) }));
}
