-- Up Migration

-- A webhook whose signature is valid but whose event is not one the workflow
-- can apply (no data, an amount that is not an integer, a body that is not
-- JSON) is stored as refused rather than answered with an error: the provider
-- would resend it for days, and it would never become well-formed. It is
-- acknowledged, kept for a person, and marked processed in the same insert, so
-- no job (nor the reconcile and poll sweeps, which look for processed_at is
-- null) ever runs it. refused_reason says what was wrong, in a few words.
alter table webhook_events add column refused_reason text;
alter table webhook_events add constraint webhook_events_refused_is_processed
  check (refused_reason is null or processed_at is not null);

-- The bytes as received, kept when the payload is not a faithful copy of them:
-- a refused body that is not JSON (no payload at all), or one whose text had
-- to be made storable (jsonb refuses \u0000 and lone surrogates; they are
-- replaced with U+FFFD in the payload). A person can still verify them.
alter table webhook_events add column raw_body bytea;
alter table webhook_events alter column payload drop not null;
alter table webhook_events add constraint webhook_events_payload_or_raw_body
  check (payload is not null or raw_body is not null);

-- Down Migration

delete from webhook_events where payload is null;
alter table webhook_events drop constraint webhook_events_payload_or_raw_body;
alter table webhook_events alter column payload set not null;
alter table webhook_events drop column raw_body;
alter table webhook_events drop constraint webhook_events_refused_is_processed;
alter table webhook_events drop column refused_reason;
