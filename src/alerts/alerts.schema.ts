import type { ColumnType, GeneratedAlways, Selectable } from 'kysely';

/** bigint ids arrive from pg as strings (they can exceed 2^53). */
type BigIntString = string;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export const ALERT_SEVERITIES = ['warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * queued: a notification is waiting for alert__send; sent: it reached the
 * channel; suppressed: the rate limit held it back; failed: the channel could
 * not be reached through every retry. The next raise of a suppressed or failed
 * incident notifies again.
 */
export const ALERT_STATUSES = ['queued', 'sent', 'suppressed', 'failed'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Written by raiseAlert (one upsert) and by the alert__send job; see migrations/1764058000000_alerts.sql. */
export interface AlertsTable {
  id: GeneratedAlways<BigIntString>;
  /** What the alert is about, e.g. `supplier_failed:<order id>`: one row per key. */
  incident_key: string;
  severity: AlertSeverity;
  title: string;
  text: ColumnType<string, string | undefined, string>;
  order_id: ColumnType<BigIntString | null, BigIntString | number | null | undefined, BigIntString | number | null>;
  occurrences: ColumnType<number, number | undefined, number>;
  first_raised_at: Timestamp;
  last_raised_at: Timestamp;
  status: ColumnType<AlertStatus, AlertStatus | undefined, AlertStatus>;
  last_raise_notifies: ColumnType<boolean, boolean | undefined, boolean>;
  attempts: ColumnType<number, number | undefined, number>;
  sent_at: NullableTimestamp;
  renotify_after: NullableTimestamp;
  last_error: string | null;
}

/** Kysely table types of the alerts feature. */
export interface AlertTables {
  alerts: AlertsTable;
}

export type Alert = Selectable<AlertsTable>;
