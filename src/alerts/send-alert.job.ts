import { sql } from 'kysely';
import type { JobWithMetadata } from 'pg-boss';
import type { AlertsConfig } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import type { Logger } from '../logger.ts';
import type { SendAlertJobData } from './alerts.queues.ts';
import { postWebhook } from './post-webhook.ts';
import { slackMessage } from './slack-message.ts';

export interface SendAlertDependencies {
  db: Db;
  log: Logger;
  config: { alerts: AlertsConfig };
}

/** ('tank', 200): serialises the senders, so the rate limit counts what every worker sent. */
const RATE_LIMIT_LOCK = sql`pg_advisory_xact_lock(1952541803, 200)`;
/** Errors are for people reading a row. */
const MAX_ERROR_LENGTH = 500;

export type SendAlertOutcome = 'sent' | 'suppressed' | 'missing' | 'already sent' | 'already suppressed' | 'already failed';

/**
 * The alert__send handler (batchSize 1): delivers the notification an alerts
 * row is queued for, once.
 *
 * One transaction takes the rate limit's advisory lock (every sender in the
 * system waits its turn, so the count below is exact), reads the row, and
 * skips it unless it is still queued (a copy of the job that ran already).
 * When ALERT_MAX_PER_MINUTE notifications went out in the last minute the row
 * is marked suppressed and the job completes: the occurrences are kept, and
 * the next raise of the incident notifies again. Otherwise it POSTs the Slack
 * message (title, text, severity, order id and number, occurrences, incident
 * key: nothing else from the database), marks the row sent with the re-notify
 * window, and commits.
 *
 * The row is read without a lock: raiseAlert never changes a queued row's
 * status, and the senders are serialised, so nothing else can. A business
 * transaction raising the same incident meanwhile therefore never waits for
 * the webhook, only for the closing one-row update.
 *
 * A refused or timed-out POST rolls back, is recorded in its own statement
 * (attempts, last error) and throws, and pg-boss retries with backoff; the
 * last attempt marks the row failed and pg-boss moves the job to
 * alert__send__dead_letter. A POST that succeeded whose commit is lost is
 * sent again by the retry: at least once, like the e-mail outbox.
 */
export function sendAlertJob({ db, log, config }: SendAlertDependencies) {
  return async function sendAlert(jobs: JobWithMetadata<SendAlertJobData>[]): Promise<void> {
    for (const job of jobs) await deliver(job);
  };

  async function deliver(job: JobWithMetadata<SendAlertJobData>): Promise<SendAlertOutcome> {
    const alertId = job.data.alertId;
    let jobLog = log.child({ queue: job.name, jobId: job.id, alertId, attempt: job.retryCount + 1 });
    let postError: unknown;
    try {
      const outcome = await db.transaction().execute(async (trx): Promise<SendAlertOutcome> => {
        await sql`select ${RATE_LIMIT_LOCK}`.execute(trx);
        const alert = await trx.selectFrom('alerts')
          .leftJoin('orders', 'orders.id', 'alerts.order_id')
          .select([
            'alerts.id', 'alerts.incident_key', 'alerts.severity', 'alerts.title', 'alerts.text', 'alerts.order_id', 'orders.number as order_number',
            'alerts.occurrences', 'alerts.first_raised_at', 'alerts.last_raised_at', 'alerts.status',
          ])
          .where('alerts.id', '=', alertId)
          .executeTakeFirst();
        if (!alert) return 'missing';
        jobLog = jobLog.child({ incidentKey: alert.incident_key, ...(alert.order_id ? { orderId: alert.order_id } : {}) });
        if (alert.status !== 'queued') return `already ${alert.status}`;

        const { sent } = await trx.selectFrom('alerts')
          .select(sql<string>`count(*)`.as('sent'))
          .where('sent_at', '>', sql<Date>`clock_timestamp() - interval '1 minute'`)
          .executeTakeFirstOrThrow();
        if (Number(sent) >= config.alerts.maxPerMinute) {
          await trx.updateTable('alerts').set({ status: 'suppressed' }).where('id', '=', alertId).execute();
          return 'suppressed';
        }

        const message = slackMessage({
          id: alert.id,
          incidentKey: alert.incident_key,
          severity: alert.severity,
          title: alert.title,
          text: alert.text,
          orderId: alert.order_id,
          orderNumber: alert.order_number,
          occurrences: alert.occurrences,
          firstRaisedAt: alert.first_raised_at,
          lastRaisedAt: alert.last_raised_at,
        });
        try {
          await postWebhook(config.alerts.webhookUrl, message, config.alerts.timeoutMs);
        } catch (error) {
          postError = error;
          throw error;
        }
        await sql`
          update alerts
             set status = 'sent', attempts = attempts + 1, sent_at = clock.now,
                 renotify_after = clock.now + make_interval(mins => ${config.alerts.renotifyMinutes})
            from (select clock_timestamp() as now) as clock
           where alerts.id = ${alertId}`.execute(trx);
        return 'sent';
      });
      if (outcome === 'missing') jobLog.warn('alert job for an alerts row that does not exist: nothing to send');
      else if (outcome === 'suppressed') jobLog.warn({ maxPerMinute: config.alerts.maxPerMinute }, 'alert suppressed by the rate limit; the next raise of the incident notifies again');
      else jobLog.info({ outcome }, outcome === 'sent' ? 'alert sent' : 'alert was handled already: nothing to do');
      return outcome;
    } catch (error) {
      if (postError === undefined) throw error;
      const final = job.retryCount >= job.retryLimit;
      await recordFailure(alertId, postError, final).catch((recordError: unknown) => jobLog.error({ err: recordError }, 'could not record the failed alert attempt'));
      jobLog.warn({ error: describe(postError), final }, final ? 'alert could not be sent: giving up' : 'alert could not be sent: will retry');
      throw postError;
    }
  }

  /** Its own statement, after the rollback: the attempt is on record though the job throws. */
  async function recordFailure(alertId: string, error: unknown, final: boolean): Promise<void> {
    await db.updateTable('alerts')
      .set({
        attempts: sql<number>`attempts + 1`,
        last_error: describe(error).slice(0, MAX_ERROR_LENGTH),
        ...(final ? { status: 'failed' as const } : {}),
      })
      .where('id', '=', alertId)
      // Only the notification this job is for: a copy that got through keeps its row clean.
      .where('status', '=', 'queued')
      .execute();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
