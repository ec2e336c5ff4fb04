-- Up Migration

-- What the stats pages need beside the rollups: a change marker for ETags and
-- a name search that stays fast at 100,000 customers. The functions and
-- triggers that keep the marker live in sql/090_stats_change_marker.sql.

-- The marker's generation: bumped whenever rows leave daily_sales_stats_pending
-- or the folded rollups change (fold, rebuild, TRUNCATE), all of which are
-- single-writer operations (the maintenance lock, or TRUNCATE's exclusive lock),
-- so this one row never makes the writers of sales wait: they only append to
-- the pending table. Within one generation the pending table only grows, so
-- (generation, count of pending rows) changes whenever what readers see does.
create table daily_sales_stats_generation (
  singleton boolean primary key default true constraint daily_sales_stats_generation_single_row check (singleton),
  generation bigint not null default 0
);
insert into daily_sales_stats_generation default values;

-- Renames of agents, products and customers change the pages too. Each
-- statement that renames appends a row here (no key, no index: renaming
-- writers never wait for each other); the next generation bump empties it.
create table stats_name_changes (
  changed_at timestamptz not null default now()
);

-- Substring search on names (?q=) with ILIKE: a trigram index, so searching
-- 100,000 customers reads the few that match, not all of them. pg_trgm is a
-- trusted extension: the database owner may create it.
create extension if not exists pg_trgm;
create index customers_name_trgm_idx on customers using gin (name gin_trgm_ops);
create index products_name_trgm_idx on products using gin (name gin_trgm_ops);
-- Sorting a page by name walks this index and stops after one page.
create index customers_name_idx on customers (name, id);

-- Down Migration

drop trigger if exists _900_bump_generation_on_delete on daily_sales_stats_pending;
drop trigger if exists _900_bump_generation_on_truncate on daily_sales_stats_pending;
drop trigger if exists _900_bump_generation_on_insert on daily_sales_stats_folded;
drop trigger if exists _900_bump_generation_on_update on daily_sales_stats_folded;
drop trigger if exists _900_bump_generation_on_delete on daily_sales_stats_folded;
drop trigger if exists _900_bump_generation_on_truncate on daily_sales_stats_folded;
drop trigger if exists _900_record_name_change on customers;
drop trigger if exists _900_record_name_change on products;
drop trigger if exists _900_record_name_change on sales_agents;
drop function if exists tg_daily_sales_stats__bump_generation();
drop function if exists tg__record_name_change();
drop function if exists stats_change_marker();
drop function if exists stats_rows_by_day(text, date, date, boolean, bigint, bigint);  -- sql/095, added later: the pages' reads
drop function if exists stats_range_totals(date, date);
drop index customers_name_idx;
drop index products_name_trgm_idx;
drop index customers_name_trgm_idx;
drop extension if exists pg_trgm;
drop table stats_name_changes;
drop table daily_sales_stats_generation;
