import { sql } from 'kysely';
import type { Db } from '../db/kysely.ts';

/** The pg-boss schema of src/jobs/boss.ts (metrics.repository.ts reads the same table). */
const BOSS_JOB_TABLE = 'pgboss.job';

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** A pg-boss job row as these pages show it. */
export interface JobRow {
  id: string;
  queue: string;
  state: JobState;
  data: Record<string, unknown> | null;
  output: Record<string, unknown> | null;
  retry_count: number;
  retry_limit: number;
  created_on: Date;
  started_on: Date | null;
  completed_on: Date | null;
  dead_letter: string | null;
  source_name: string | null;
  source_id: string | null;
  source_retry_count: number | null;
  source_output: Record<string, unknown> | null;
}

const COLUMNS = sql`j.id::text as id, j.name as queue, j.state::text as state, j.data, j.output, j.retry_count, j.retry_limit,
  j.created_on, j.started_on, j.completed_on, j.dead_letter, j.source_name, j.source_id::text as source_id,
  j.source_retry_count, j.source_output`;

/** Whether pg-boss has created its schema yet (no process has started it: no jobs, nothing to show). */
export async function hasJobTable(db: Db): Promise<boolean> {
  const { rows: [row] } = await sql<{ present: boolean }>`select to_regclass(${BOSS_JOB_TABLE}) is not null as present`.execute(db);
  return Boolean(row?.present);
}

/** Ids of the order's own rows that jobs carry in their data. */
export interface OrderJobKeys {
  orderId: string;
  createdAt: Date;
  webhookEventIds: string[];
  invoiceIds: string[];
  emailIds: string[];
  alertIds: string[];
}

/**
 * The jobs about one order: those whose data names it (orderId), or names
 * one of its webhook events, invoices or e-mails, dead-letter copies
 * included. pg-boss has no index on data: this reads the jobs created since
 * the order (none can be older), which pg-boss keeps for days, not forever.
 */
export async function jobsOfOrder(db: Db, keys: OrderJobKeys): Promise<JobRow[]> {
  if (!(await hasJobTable(db))) return [];
  const { rows } = await sql<JobRow>`
    select ${COLUMNS} from ${sql.table(BOSS_JOB_TABLE)} as j
    where j.created_on >= ${keys.createdAt}::timestamptz - interval '1 minute'
      and (j.data ->> 'orderId' = ${keys.orderId}
        or j.data ->> 'order_id' = ${keys.orderId}
        or j.data ->> 'webhookEventId' = any(${keys.webhookEventIds}::text[])
        or j.data ->> 'invoiceId' = any(${keys.invoiceIds}::text[])
        or j.data ->> 'emailId' = any(${keys.emailIds}::text[])
        or j.data ->> 'alertId' = any(${keys.alertIds}::text[]))
    order by j.created_on, j.id
    limit 500`.execute(db);
  return rows;
}

/**
 * What waits for a person: every job in a dead-letter queue not yet taken
 * (dead-letter queues have no workers), and every failed job of a main
 * queue that has no such copy (a queue without a dead-letter queue, or a
 * copy already gone). A failed job with its copy waiting shows once, as the
 * copy. Newest first.
 */
export async function deadLetters(db: Db, queues: { deadLetters: readonly string[]; main: readonly string[] }, options: { queue?: string; limit: number }) {
  if (!(await hasJobTable(db))) return { rows: [] as JobRow[], counts: [] as { queue: string; n: string }[] };
  const deadQueues = options.queue ? queues.deadLetters.filter((q) => q === options.queue) : [...queues.deadLetters];
  const mainQueues = options.queue ? queues.main.filter((q) => q === options.queue) : [...queues.main];
  const waiting = sql`(
    (j.name = any(${deadQueues}::text[]) and j.state in ('created', 'retry'))
    or (j.name = any(${mainQueues}::text[]) and j.state = 'failed'
        and not exists (select 1 from ${sql.table(BOSS_JOB_TABLE)} as d
                        where d.name = j.dead_letter and d.source_id = j.id and d.state in ('created', 'retry'))))`;
  const [{ rows }, { rows: counts }] = await Promise.all([
    sql<JobRow>`select ${COLUMNS} from ${sql.table(BOSS_JOB_TABLE)} as j where ${waiting}
      order by coalesce(j.completed_on, j.created_on) desc, j.id limit ${options.limit}`.execute(db),
    sql<{ queue: string; n: string }>`select j.name as queue, count(*)::text as n from ${sql.table(BOSS_JOB_TABLE)} as j where ${waiting} group by j.name`.execute(db),
  ]);
  return { rows, counts };
}

const ID = /^\d{1,18}$/;

/**
 * The order each job is about, from its data: an orderId, or the order of
 * the webhook event, invoice, e-mail or alert it names (by their primary
 * keys; for webhooks by what the payload names: the order id, its checkout
 * session or payment intent, or for the supplier's its number).
 * Undefined where the data names no order (or is not what the queue expects).
 */
export async function orderIdsOfJobs(db: Db, jobs: readonly Pick<JobRow, 'data'>[]): Promise<(string | undefined)[]> {
  const field = (data: Record<string, unknown> | null, key: string) => {
    const value = data?.[key];
    const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : undefined;
    return text !== undefined && ID.test(text) ? text : undefined;
  };
  const ids = (key: string) => [...new Set(jobs.map((job) => field(job.data, key)).filter((id): id is string => id !== undefined))];
  const webhookIds = ids('webhookEventId');
  const invoiceIds = ids('invoiceId');
  const emailIds = ids('emailId');
  const alertIds = ids('alertId');
  const object = sql`w.payload -> 'data' -> 'object'`;
  const [webhooks, invoices, emails, alerts] = await Promise.all([
    webhookIds.length === 0 ? [] : sql<{ id: string; order_id: string | null }>`
      select w.id::text as id, coalesce(
        case when ${object} -> 'metadata' ->> 'order_id' ~ '^[0-9]{1,18}$' then ${object} -> 'metadata' ->> 'order_id' end,
        case when ${object} ->> 'client_reference_id' ~ '^[0-9]{1,18}$' then ${object} ->> 'client_reference_id' end,
        (select o.id::text from orders as o where o.checkout_session_id = ${object} ->> 'id'),
        (select o.id::text from orders as o where o.payment_intent_id in (${object} ->> 'id', ${object} ->> 'payment_intent') limit 1),
        (select o.id::text from orders as o where o.number = w.payload -> 'data' -> 'order' ->> 'external_id')
      ) as order_id
      from webhook_events as w where w.id = any(${webhookIds}::bigint[])`.execute(db).then((r) => r.rows),
    invoiceIds.length === 0 ? [] : db.selectFrom('invoices').select(['id', 'order_id']).where('id', 'in', invoiceIds).execute(),
    emailIds.length === 0 ? [] : db.selectFrom('email_outbox').select(['id', 'order_id']).where('id', 'in', emailIds).execute(),
    alertIds.length === 0 ? [] : alertOrders(db, alertIds),
  ]);
  const byWebhook = new Map(webhooks.map((row) => [row.id, row.order_id ?? undefined]));
  const byInvoice = new Map(invoices.map((row) => [row.id, row.order_id]));
  const byEmail = new Map(emails.map((row) => [row.id, row.order_id ?? undefined]));
  const byAlert = new Map(alerts.map((row) => [row.id, row.order_id ?? undefined]));
  return jobs.map((job) => {
    const direct = field(job.data, 'orderId') ?? field(job.data, 'order_id');
    if (direct) return direct;
    const webhook = field(job.data, 'webhookEventId');
    if (webhook) return byWebhook.get(webhook);
    const invoice = field(job.data, 'invoiceId');
    if (invoice) return byInvoice.get(invoice);
    const email = field(job.data, 'emailId');
    if (email) return byEmail.get(email);
    const alert = field(job.data, 'alertId');
    return alert ? byAlert.get(alert) : undefined;
  });
}

/** The alerts table is the alerts feature's: read only where it exists. */
async function alertOrders(db: Db, ids: string[]): Promise<{ id: string; order_id: string | null }[]> {
  const { rows: [table] } = await sql<{ present: boolean }>`select to_regclass('alerts') is not null as present`.execute(db);
  if (!table?.present) return [];
  const { rows } = await sql<{ id: string; order_id: string | null }>`
    select id::text as id, order_id::text as order_id from alerts where id = any(${ids}::bigint[])`.execute(db);
  return rows;
}

/** The sentence a failed job left (pg-boss stores the thrown error, serialised, as its output). */
export function errorOf(output: unknown): string | undefined {
  if (output === null || output === undefined) return undefined;
  if (typeof output === 'object' && typeof (output as { message?: unknown }).message === 'string') {
    return (output as { message: string }).message.slice(0, 1000);
  }
  const text = typeof output === 'string' ? output : JSON.stringify(output);
  return text === '{}' ? undefined : text.slice(0, 1000);
}
