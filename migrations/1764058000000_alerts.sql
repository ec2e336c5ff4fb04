-- Up Migration

-- Alerts for the team's chat channel (src/alerts/). A feature that notices
-- something wrong calls raiseAlert in its own transaction: one upsert here and,
-- when the team should hear about it, an alert__send job in that same
-- transaction. The job posts the alert to the chat webhook.
--
-- One row per incident (incident_key: `supplier_failed:<order id>`,
-- `dead_letter:<queue>:<job id>`, …), however often it is raised: raising it
-- again counts an occurrence and notifies again only when the last
-- notification is older than the re-notify window (renotify_after, set by the
-- sender from ALERT_RENOTIFY_MINUTES), or when it never reached the channel
-- (suppressed by the rate limit, or failed). A plain unique key rather than a
-- partial index over a time window: the window lives in renotify_after, so a
-- re-raise is one `insert … on conflict do update`, and an incident keeps one
-- history (first raised, occurrences) instead of a row per window.
--
-- Content: title and text are written by the caller and may carry the order id
-- or number, never personal data or secrets (raiseAlert refuses e-mail
-- addresses; see README, Alerts). order_id has no foreign key on purpose: an
-- alert about an order must never make the caller's transaction fail (an order
-- id that is not there yet, or one deleted later, is still worth telling).
create table alerts (
  id bigint generated always as identity primary key,
  incident_key text not null
    constraint alerts_incident_key_unique unique
    constraint alerts_incident_key_valid check (incident_key ~ '^[[:graph:]]{1,200}$'),
  severity text not null constraint alerts_severity_known check (severity in ('warning', 'critical')),
  title text not null constraint alerts_title_valid check (btrim(title) <> '' and length(title) <= 150),
  text text not null default '' constraint alerts_text_length check (length(text) <= 2000),
  order_id bigint,
  occurrences integer not null default 1 constraint alerts_occurrences_positive check (occurrences >= 1),
  first_raised_at timestamptz not null default now(),
  last_raised_at timestamptz not null default now(),
  status text not null default 'queued'
    constraint alerts_status_known check (status in ('queued', 'sent', 'suppressed', 'failed')),
  -- Whether the latest raise asked for a notification (the row was new, or due
  -- again): what raiseAlert reads back from its upsert to decide on the job.
  last_raise_notifies boolean not null default true,
  -- Delivery attempts of the current notification (reset when it is due again).
  attempts integer not null default 0 constraint alerts_attempts_not_negative check (attempts >= 0),
  -- The last notification that reached the channel; kept while a later one is queued.
  sent_at timestamptz,
  -- Until then a raise of this incident only counts an occurrence.
  renotify_after timestamptz,
  last_error text,
  constraint alerts_raised_in_order check (last_raised_at >= first_raised_at),
  constraint alerts_sent_has_time check (status <> 'sent' or (sent_at is not null and renotify_after is not null))
);
-- The rate limit counts the notifications sent in the last minute.
create index alerts_sent_at_idx on alerts (sent_at) where sent_at is not null;
-- An order's alerts (the operations page), and the open ones.
create index alerts_order_id_idx on alerts (order_id) where order_id is not null;
create index alerts_open_idx on alerts (status, last_raised_at) where status <> 'sent';

comment on table alerts is 'One row per incident told to the team''s chat channel; raiseAlert upserts it, the alert__send job delivers it (src/alerts/).';

-- Down Migration

drop table alerts;
