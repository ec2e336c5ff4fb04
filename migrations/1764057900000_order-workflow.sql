-- Up Migration

-- The order workflow: orders and their items, the payments received for them,
-- an audit row for every state change, the inbox of gateway webhooks, and the
-- invoices (with their gapless number series). The functions and triggers on
-- these tables live in sql/1xx_*.sql.
--
-- States are text with named check constraints rather than enum types: the
-- supplier workflow will add fulfilment states, and adding a value to a check
-- is a one-statement migration that can also be undone (an enum value cannot
-- be dropped). The allowed transitions are data in src/orders/order-states.ts.

-- Referral links name an agent by a code; the agent of a sale without one is
-- the web shop's (found or created by name, see DEFAULT_SALES_AGENT).
alter table sales_agents add column referral_code text
  constraint sales_agents_referral_code_valid check (referral_code ~ '^[A-Za-z0-9_-]{2,64}$');
-- Codes are typed by people: ANN-7 and ann-7 are one code.
create unique index sales_agents_referral_code_unique on sales_agents (lower(referral_code));

create table orders (
  id bigint generated always as identity primary key,
  -- What people read and type (receipts, support calls, the return page): random,
  -- so that knowing one order's number tells nothing about another's.
  number text not null
    constraint orders_number_unique unique
    constraint orders_number_format check (number ~ '^TT-[0-9A-Z]{4}-[0-9A-Z]{4}$'),
  customer_id bigint not null constraint orders_customer_id_fkey references customers (id),
  sales_agent_id bigint not null constraint orders_sales_agent_id_fkey references sales_agents (id),
  referral_code text,
  currency text not null constraint orders_currency_valid check (currency ~ '^[a-z]{3}$'),
  -- Computed by the server from the items' price snapshots, never sent by a client.
  total numeric(12, 2) not null constraint orders_total_positive check (total > 0),
  payment_state text not null default 'pending_payment' constraint orders_payment_state_known check (payment_state in (
    'pending_payment', 'payment_processing', 'paid', 'payment_failed', 'expired', 'cancelled', 'refund_pending', 'refunded')),
  fulfilment_state text not null default 'unfulfilled' constraint orders_fulfilment_state_known check (fulfilment_state in (
    'unfulfilled', 'submitted', 'supplier_failed', 'supplier_rejected', 'in_production', 'partially_shipped', 'shipped',
    'delivered', 'cancelled')),
  -- Set when the gateway reports something the workflow must not decide alone
  -- (an amount that differs from the order's total, a second payment).
  needs_review boolean not null default false,
  review_reason text,
  constraint orders_review_reason_present check (not needs_review or review_reason is not null),
  checkout_session_id text constraint orders_checkout_session_id_unique unique,
  checkout_url text,
  payment_intent_id text,
  -- Each attempt creates a new checkout session; its number makes the
  -- gateway's idempotency key, so a retried create does not make a second one.
  payment_attempts integer not null default 0 constraint orders_payment_attempts_not_negative check (payment_attempts >= 0),
  -- The customer and address as they were when the order was placed: the
  -- customer row may change later, the order (and its invoice) must not.
  customer_name text not null constraint orders_customer_name_not_blank check (btrim(customer_name) <> ''),
  customer_email text not null constraint orders_customer_email_valid check (customer_email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  address_line1 text not null constraint orders_address_line1_not_blank check (btrim(address_line1) <> ''),
  address_line2 text,
  postal_code text not null constraint orders_postal_code_not_blank check (btrim(postal_code) <> ''),
  city text not null constraint orders_city_not_blank check (btrim(city) <> ''),
  country text not null constraint orders_country_iso check (country ~ '^[A-Z]{2}$'),
  expires_at timestamptz not null,
  paid_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index orders_customer_id_idx on orders (customer_id);
create index orders_sales_agent_id_idx on orders (sales_agent_id);
create index orders_payment_intent_id_idx on orders (payment_intent_id) where payment_intent_id is not null;
-- The scheduled jobs look for orders still waiting for their payment.
create index orders_awaiting_payment_idx on orders (updated_at)
  where payment_state in ('pending_payment', 'payment_processing', 'payment_failed');

create table order_items (
  id bigint generated always as identity primary key,
  order_id bigint not null constraint order_items_order_id_fkey references orders (id),
  product_id bigint not null constraint order_items_product_id_fkey references products (id),
  quantity integer not null constraint order_items_quantity_range check (quantity between 1 and 99),
  -- Snapshots: a later price change or rename does not change an order.
  unit_price numeric(12, 2) not null constraint order_items_unit_price_not_negative check (unit_price >= 0),
  name text not null,
  constraint order_items_one_line_per_product unique (order_id, product_id)
);
create index order_items_product_id_idx on order_items (product_id);

create table payments (
  id bigint generated always as identity primary key,
  order_id bigint not null constraint payments_order_id_fkey references orders (id),
  provider text not null default 'stripe',
  -- The payment intent (or, without one, the checkout session): the same money
  -- reported twice (two events, a webhook and a reconcile) is one row.
  provider_payment_id text not null,
  amount numeric(12, 2) not null,
  currency text not null constraint payments_currency_valid check (currency ~ '^[a-z]{3}$'),
  status text not null constraint payments_status_known check (status in ('succeeded', 'refund_pending', 'refunded')),
  raw jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint payments_provider_payment_id_unique unique (provider, provider_payment_id)
);
create index payments_order_id_idx on payments (order_id);

-- Append-only audit: one row for every change of an order's state.
create table order_events (
  id bigint generated always as identity primary key,
  order_id bigint not null constraint order_events_order_id_fkey references orders (id),
  dimension text not null constraint order_events_dimension_known check (dimension in ('payment', 'fulfilment', 'review')),
  from_state text,
  to_state text not null,
  reason text not null,
  -- What caused it: a webhook event id, a job id, a request.
  source text,
  created_at timestamptz not null default now()
);
create index order_events_order_id_idx on order_events (order_id, id);

-- The inbox: every webhook whose signature was valid, stored before it is
-- answered, processed later by a job. (provider, event_id) makes a redelivery
-- a no-op.
create table webhook_events (
  id bigint generated always as identity primary key,
  provider text not null,
  event_id text not null,
  type text not null,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  outcome text,
  processing_error text,
  constraint webhook_events_provider_event_id_unique unique (provider, event_id)
);
create index webhook_events_unprocessed_idx on webhook_events (received_at) where processed_at is null;

-- Gapless number series (INV-2026, CN-2026): the counter row is updated in the
-- transaction that issues the invoice, so a rolled-back payment gives its
-- number back and concurrent payments queue on the row for theirs.
create table invoice_counters (
  series text primary key constraint invoice_counters_series_format check (series ~ '^[A-Z]{2,4}-[0-9]{4}$'),
  next_value bigint not null default 1 constraint invoice_counters_next_value_positive check (next_value > 0)
);

-- Issued invoices and credit notes. Immutable once inserted (a trigger in
-- sql/100_invoices_immutable.sql refuses UPDATE and DELETE): everything the
-- document shows is in snapshot, so re-rendering it gives the same document.
create table invoices (
  id bigint generated always as identity primary key,
  kind text not null constraint invoices_kind_known check (kind in ('invoice', 'credit_note')),
  series text not null,
  sequence_number bigint not null constraint invoices_sequence_number_positive check (sequence_number > 0),
  number text not null constraint invoices_number_unique unique,
  order_id bigint not null constraint invoices_order_id_fkey references orders (id),
  credits_invoice_id bigint constraint invoices_credits_invoice_id_fkey references invoices (id),
  snapshot jsonb not null,
  total numeric(12, 2) not null,
  currency text not null constraint invoices_currency_valid check (currency ~ '^[a-z]{3}$'),
  issued_at timestamptz not null default now(),
  constraint invoices_series_sequence_unique unique (series, sequence_number),
  constraint invoices_only_credit_notes_credit check (kind = 'credit_note' or credits_invoice_id is null)
);
create index invoices_order_id_idx on invoices (order_id);
create index invoices_credits_invoice_id_idx on invoices (credits_invoice_id) where credits_invoice_id is not null;
-- The workflow issues at most one invoice and one (full) credit note per order.
create unique index invoices_one_invoice_per_order on invoices (order_id) where kind = 'invoice';
create unique index invoices_one_credit_note_per_order on invoices (order_id) where kind = 'credit_note';

-- The rendered PDF is the one mutable thing about an invoice (a new template,
-- a font fix): kept apart so the invoice row itself never changes.
create table invoice_documents (
  invoice_id bigint primary key constraint invoice_documents_invoice_id_fkey references invoices (id),
  pdf bytea not null,
  rendered_at timestamptz not null default now()
);

-- Down Migration

-- The replaceable objects from sql/1xx that stand on these tables go first.
drop function if exists allocate_invoice_number(text);
drop function if exists order_default_sales_agent(text);
drop table invoice_documents;
drop table invoices;
drop function if exists tg_invoices__refuse_change();
drop table invoice_counters;
drop table webhook_events;
drop table order_events;
drop table payments;
drop table order_items;
drop table orders;
drop index sales_agents_referral_code_unique;
alter table sales_agents drop column referral_code;
