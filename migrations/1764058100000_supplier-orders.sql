-- Up Migration

-- The supplier side of the order workflow: what the drop-shipping supplier
-- knows about each order we send it, the packages it ships, and an audit of
-- every call we make to its API. Supplier webhooks reuse webhook_events
-- (provider 'supplier'). The trigger on supplier_orders lives in
-- sql/200_supplier_orders_updated_at.sql.

-- One row per order handed to the supplier, written in the payment's
-- transaction (with the submit job), so a submission is never lost. Kept out of
-- orders: the supplier's fields are written by webhooks and polling, often,
-- and orders stays narrow for the shop's pages and the metrics' counts.
create table supplier_orders (
  order_id bigint primary key constraint supplier_orders_order_id_fkey references orders (id),
  -- What the supplier knows our order by (the order number): unique there, so a
  -- retried create finds the first one instead of making a second.
  external_id text not null constraint supplier_orders_external_id_unique unique
    constraint supplier_orders_external_id_format check (external_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
  -- The same key for every attempt, job copy and resubmission of the order.
  idempotency_key text not null constraint supplier_orders_idempotency_key_not_blank check (btrim(idempotency_key) <> ''),
  supplier_order_id text constraint supplier_orders_supplier_order_id_unique unique,
  submitted_at timestamptz,
  last_supplier_status text constraint supplier_orders_last_supplier_status_known check (last_supplier_status in (
    'pending', 'in_production', 'on_hold', 'partially_shipped', 'shipped', 'delivered', 'cancelled', 'failed')),
  -- The supplier's own `updated` of the newest order snapshot applied: an older
  -- snapshot (a reordered webhook) never overwrites a newer status.
  supplier_status_at timestamptz,
  supplier_status_reason text,
  rejection_code text,
  rejection_reason text,
  rejected_at timestamptz,
  -- Set (and committed) before we ask the supplier to cancel: the webhook that
  -- follows is then known as our own cancellation, not the supplier's.
  cancel_requested_at timestamptz,
  cancel_requested_by text,
  last_polled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- The polling fallback looks at the orders still on their way (its query
-- repeats this predicate): delivered and cancelled ones, the bulk in time, are
-- not in the index.
create index supplier_orders_in_flight_idx on supplier_orders (order_id)
  where supplier_order_id is not null
    and last_supplier_status in ('pending', 'in_production', 'on_hold', 'partially_shipped', 'shipped');

-- One row per package, as the supplier reports it (webhook or polling); the
-- supplier's shipment id makes a repeated report a no-op, and the customer's
-- shipping e-mail is sent for new rows only.
create table shipments (
  id bigint generated always as identity primary key,
  order_id bigint not null constraint shipments_order_id_fkey references orders (id),
  supplier_shipment_id text not null constraint shipments_supplier_shipment_id_unique unique,
  carrier text not null,
  service text,
  tracking_number text,
  tracking_url text constraint shipments_tracking_url_http check (tracking_url ~* '^https?://'),
  -- [{sku, quantity}]: which units went in this package.
  items jsonb not null default '[]' constraint shipments_items_array check (jsonb_typeof(items) = 'array'),
  shipped_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now()
);
create index shipments_order_id_idx on shipments (order_id);

-- Every call to the supplier's API, written before the call (status null: no
-- answer yet, or never: a timeout, a killed worker) and completed after it.
-- For the operations page, and for the submit job: a previous POST for an
-- order means "look it up before creating it again".
create table supplier_calls (
  id bigint generated always as identity primary key,
  order_id bigint constraint supplier_calls_order_id_fkey references orders (id),
  method text not null,
  path text not null,
  idempotency_key text,
  -- The HTTP status, or null when none came back.
  status integer,
  error text,
  duration_ms integer constraint supplier_calls_duration_not_negative check (duration_ms >= 0),
  -- Who called: a job (`job:<id>`), the poller, an operator.
  source text,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
create index supplier_calls_order_id_idx on supplier_calls (order_id, id) where order_id is not null;
create index supplier_calls_started_at_idx on supplier_calls (started_at);

-- Down Migration

drop table supplier_calls;
drop table shipments;
drop table supplier_orders;
