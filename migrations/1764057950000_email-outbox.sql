-- Up Migration

-- The e-mail outbox. A feature that wants a message sent inserts a row here in
-- its own transaction, and the email__send job (enqueued in that same
-- transaction) delivers it: a rolled-back order sends nothing, a committed one
-- is sent even if the process dies right after the commit.
--
-- dedupe_key says what the message is about (`invoice:<order id>`), so that a
-- retried caller cannot queue the same message twice. The rendered subject and
-- bodies are stored, not the template data: a message sent after a deploy is
-- the one that was queued. Attachments are small (invoice PDFs) and travel in
-- the row as [{filename, contentType, contentBase64}].
--
-- order_id has no foreign key yet: the orders schema is written alongside; the
-- key is added by a later migration.
create table email_outbox (
  id bigint generated always as identity primary key,
  dedupe_key text not null constraint email_outbox_dedupe_key_unique unique
    constraint email_outbox_dedupe_key_not_blank check (btrim(dedupe_key) <> ''),
  purpose text not null constraint email_outbox_purpose_not_blank check (btrim(purpose) <> ''),
  order_id bigint,
  recipient text not null constraint email_outbox_recipient_valid check (recipient ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  subject text not null,
  text_body text not null,
  html_body text not null,
  attachments jsonb not null default '[]'
    constraint email_outbox_attachments_array check (jsonb_typeof(attachments) = 'array'),
  status text not null default 'queued'
    constraint email_outbox_status_known check (status in ('queued', 'sent', 'failed')),
  attempts integer not null default 0 constraint email_outbox_attempts_not_negative check (attempts >= 0),
  last_error text,
  -- Deterministic, so a resend after a lost commit carries the same Message-ID
  -- and receivers can recognise the duplicate. Filled in by the insert itself.
  message_id text generated always as ('<email-' || id || '@tanktop.local>') stored,
  created_at timestamptz not null default now(),
  sent_at timestamptz,
  constraint email_outbox_sent_at_when_sent check ((status = 'sent') = (sent_at is not null))
);
-- Operators and sweeps look for what is still queued or has failed; sent rows are the bulk.
create index email_outbox_status_idx on email_outbox (status, created_at) where status <> 'sent';
-- The order page lists an order's messages (and the coming foreign key needs it).
create index email_outbox_order_id_idx on email_outbox (order_id) where order_id is not null;

-- Down Migration

drop table email_outbox;
