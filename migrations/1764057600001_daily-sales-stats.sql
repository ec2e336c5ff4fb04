-- Up Migration

-- Storage for the daily rollups. The functions, triggers and the
-- daily_sales_stats view that maintain and read these tables live in sql/
-- (replaceable objects, applied after every migration run).

-- The business time zone that decides which calendar day a sale belongs to.
create table stats_settings (
  singleton boolean primary key default true constraint stats_settings_single_row check (singleton),
  time_zone text not null default 'UTC'
);
insert into stats_settings default values;

-- Folded rollups: one row per (dimension, day, entity), written only by the fold
-- step and by rebuilds, never by the writers of sales. That is what keeps hot
-- keys cheap: writers never lock a row here.
create table daily_sales_stats_folded (
  dimension text not null constraint daily_sales_stats_folded_dimension_known
    check (dimension in ('agent', 'product', 'customer')),
  day date not null,
  entity_id bigint not null,
  -- No check on sales_count: the fold's upsert proposes negative deltas as rows
  -- (check constraints are tested before ON CONFLICT), and deletes rows whose
  -- count reaches zero in the same transaction.
  sales_count bigint not null,
  total_price numeric not null,
  constraint daily_sales_stats_folded_pkey primary key (dimension, day, entity_id)
);
-- The drill-down path: one entity's days.
create index daily_sales_stats_folded_entity_idx on daily_sales_stats_folded (dimension, entity_id, day);

-- Pending deltas: append-only, one row per (statement, dimension, day, entity),
-- with negative counts for deletes and for the old side of updates. No unique
-- key and no index, so concurrent writers never wait on each other here.
-- fold_daily_sales_stats() moves committed deltas into the folded table.
create table daily_sales_stats_pending (
  dimension text not null,
  day date not null,
  entity_id bigint not null,
  sales_count bigint not null,
  total_price numeric not null
) with (
  -- Rows live for about a second: vacuum often so the table stays a few pages.
  autovacuum_vacuum_scale_factor = 0,
  autovacuum_vacuum_threshold = 5000,
  autovacuum_vacuum_insert_scale_factor = 0,
  autovacuum_vacuum_insert_threshold = 5000
);

-- Down Migration

-- The replaceable objects from sql/ that depend on these tables go first.
drop view if exists daily_sales_stats;
drop trigger if exists _500_record_stats_on_insert on sales;
drop trigger if exists _500_record_stats_on_update on sales;
drop trigger if exists _500_record_stats_on_delete on sales;
drop trigger if exists _500_clear_stats_on_truncate on sales;
drop function if exists tg_sales__record_stats();
drop function if exists tg_sales__clear_stats();
drop function if exists fold_daily_sales_stats();
drop function if exists verify_daily_sales_stats();
drop function if exists daily_sales_stats_from_sales(timestamptz, timestamptz);
drop function if exists rebuild_daily_sales_stats(date, date);
drop function if exists rebuild_daily_sales_stats_indexes_detach();
drop function if exists rebuild_daily_sales_stats_indexes_attach();
drop function if exists set_stats_time_zone(text);
drop function if exists sale_day(timestamptz);
drop function if exists sale_day(timestamptz, text);
drop function if exists stats_time_zone();
drop table daily_sales_stats_pending;
drop table daily_sales_stats_folded;
drop table stats_settings;
