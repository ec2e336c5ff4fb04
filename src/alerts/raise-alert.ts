import { sql, type Kysely, type Transaction } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Database } from '../db/schema.ts';
import { checkAlert, type AlertRequest, type CheckedAlert } from './alert-content.ts';
import { ALERT_SEND_QUEUE, type SendAlertJobData } from './alerts.queues.ts';

export { AlertContentError, type AlertRequest } from './alert-content.ts';

export interface RaisedAlert {
  alertId: string;
  /** Times this incident has been raised, this one included. */
  occurrences: number;
  /** Whether this raise queued a notification (an alert__send job). */
  notifies: boolean;
}

/**
 * Tells the team's chat channel that something went wrong, from inside the
 * caller's transaction: one upsert of the incident's alerts row and, when the
 * team should hear about it, one alert__send job, both committed or rolled
 * back with the caller's own writes. Nothing here waits for the chat service:
 * the job posts later, in the worker, and a channel that is down never fails
 * or slows the caller.
 *
 * - A new incident notifies. Raising it again counts an occurrence (the
 *   notification still waiting shows the latest count) and notifies again
 *   only when the last notification is older than the re-notify window, when
 *   it never reached the channel (suppressed by the rate limit, or failed), or
 *   when a warning that was sent comes back critical.
 * - Content (docs/alerts.md): title and text carry the order id or number and
 *   what went wrong, never personal data or secrets. An e-mail address in the
 *   key, title or text is a programming error: AlertContentError, thrown before
 *   anything is written. Lengths are bounded here, so the database never
 *   refuses the row.
 *
 * `executor` is the caller's transaction, or the database (then the row and
 * its job get a transaction of their own). The upsert waits only for another
 * transaction raising the same incident (or the sender's one-row update,
 * never its webhook call); raise one incident per transaction, or raise them
 * last, and two callers cannot deadlock on them.
 */
export async function raiseAlert(executor: Kysely<Database>, boss: Pick<PgBoss, 'send'>, request: AlertRequest): Promise<RaisedAlert> {
  const alert = checkAlert(request);
  if (executor.isTransaction) return upsertAndSend(executor as Transaction<Database>, boss, alert);
  return executor.transaction().execute((trx) => upsertAndSend(trx, boss, alert));
}

async function upsertAndSend(trx: Transaction<Database>, boss: Pick<PgBoss, 'send'>, alert: CheckedAlert): Promise<RaisedAlert> {
  // In `do update`, `alerts` is the row as it was: whether this raise makes
  // the incident due for a (new) notification.
  const due = sql<boolean>`(alerts.status in ('suppressed', 'failed')
    or (alerts.status = 'sent' and (alerts.renotify_after <= now()
        or (alerts.severity = 'warning' and excluded.severity = 'critical'))))`;
  const { rows } = await sql<{ id: string; occurrences: number; notifies: boolean }>`
    insert into alerts (incident_key, severity, title, text, order_id)
    values (${alert.incidentKey}, ${alert.severity}, ${alert.title}, ${alert.text}, ${alert.orderId})
    on conflict (incident_key) do update set
      occurrences = alerts.occurrences + 1,
      last_raised_at = greatest(alerts.last_raised_at, now()),
      -- The most severe raise since the last notification is the one told.
      severity = case when ${due} or excluded.severity = 'critical' then excluded.severity else alerts.severity end,
      title = excluded.title,
      text = excluded.text,
      order_id = coalesce(excluded.order_id, alerts.order_id),
      status = case when ${due} then 'queued' else alerts.status end,
      attempts = case when ${due} then 0 else alerts.attempts end,
      last_raise_notifies = ${due}
    returning id, occurrences, last_raise_notifies as notifies`.execute(trx);
  const row = rows[0]!;
  if (row.notifies) {
    const job: SendAlertJobData = { alertId: row.id };
    await boss.send(ALERT_SEND_QUEUE, job, { db: jobsIn(trx) });
  }
  return { alertId: row.id, occurrences: row.occurrences, notifies: row.notifies };
}
