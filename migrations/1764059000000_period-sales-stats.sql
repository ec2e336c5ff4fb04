-- Up Migration

-- Rankings without reading the range (issue 13, item 2). The overview's top
-- 10, the pivot's rows and the entity rankings read, for the standing ranges
-- (a calendar month, a calendar year, the sliding last 30 days), one row per
-- entity kept here, instead of every (day, entity) row of the range. The
-- functions that keep these rows live in sql/065_period_sales_stats.sql.
--
-- Invariant: every row is the sum of daily_sales_stats_folded over its
-- period's days (folded only: readers add the pending deltas of the range, as
-- they do for the daily rows). The fold adds the same net deltas here, under
-- the same lock, in the same transaction; rebuilds recompute the periods they
-- touch.
create table period_sales_stats_folded (
  dimension text not null constraint period_sales_stats_folded_dimension_known
    check (dimension in ('agent', 'product', 'customer')),
  entity_id bigint not null,
  -- 'month' and 'year': period_start is the first day of the calendar month
  -- or year. 'window': the last 30 days ending period_sales_stats_window's
  -- last_day; period_start is always -infinity, so sliding the window by a
  -- day touches the entities of the day that left and the day that entered,
  -- not every row's key.
  period text not null constraint period_sales_stats_folded_period_known
    check (period in ('month', 'year', 'window')),
  period_start date not null,
  sales_count bigint not null,
  total_price numeric not null,
  -- The entity's name, copied (kept current by a trigger on renames), so a
  -- ranking by name walks an index of this table and stops after a page.
  name text not null,
  -- Entity first: the same index serves the readers' probe of one entity's
  -- period row and a rename's update of all of an entity's rows.
  constraint period_sales_stats_folded_pkey primary key (dimension, entity_id, period, period_start)
) with (
  -- Read on replicas: a vacuum truncating the tail cancels their reads (see 1764058800000).
  vacuum_truncate = false
);
-- One index per sort; a backward scan serves the other direction (the pages
-- break ties by entity id in the sort's direction).
create index period_sales_stats_folded_total_idx
  on period_sales_stats_folded (dimension, period, period_start, total_price, entity_id);
create index period_sales_stats_folded_count_idx
  on period_sales_stats_folded (dimension, period, period_start, sales_count, entity_id);
create index period_sales_stats_folded_name_idx
  on period_sales_stats_folded (dimension, period, period_start, name, entity_id);

-- Which 30 days the 'window' rows cover: last_day - 29 .. last_day. The
-- service's fold step slides it when today (in the stats time zone) moves;
-- a reader uses the window rows only when last_day is its range's last day.
create table period_sales_stats_window (
  singleton boolean primary key default true constraint period_sales_stats_window_single_row check (singleton),
  last_day date not null
);

-- The stats pages read the pending deltas of a range. The fold deletes every
-- pending row each second and the table is never vacuum-truncated (replicas),
-- so its file keeps the size of its busiest second and a sequential scan reads
-- all of those empty pages. With this index a range read visits the range's
-- entries only.
create index daily_sales_stats_pending_dimension_day_idx on daily_sales_stats_pending (dimension, day);

-- Backfill from the folded daily rows. The maintenance lock keeps the fold
-- (and rebuilds) away until commit, by which time the new fold, which also
-- writes these rows, is in place (sql/ is applied in this transaction). The
-- share locks keep renames away until the rename trigger exists.
select pg_advisory_xact_lock(1952541803, 1);
lock table customers, products, sales_agents in share mode;

insert into period_sales_stats_window (last_day)
select (now() at time zone time_zone)::date from stats_settings;

insert into period_sales_stats_folded (dimension, entity_id, period, period_start, sales_count, total_price, name)
select g.dimension, g.entity_id, g.period, g.period_start, g.sales_count, g.total_price,
       coalesce(a.name, p.name, c.name, '')
from (
  select dimension, entity_id, 'month' as period, date_trunc('month', day::timestamp)::date as period_start,
         sum(sales_count)::bigint as sales_count, sum(total_price) as total_price
  from daily_sales_stats_folded group by 1, 2, 3, 4
  union all
  select dimension, entity_id, 'year', date_trunc('year', day::timestamp)::date, sum(sales_count)::bigint, sum(total_price)
  from daily_sales_stats_folded group by 1, 2, 3, 4
  union all
  select f.dimension, f.entity_id, 'window', '-infinity'::date, sum(f.sales_count)::bigint, sum(f.total_price)
  from daily_sales_stats_folded as f cross join period_sales_stats_window as w
  where f.day between w.last_day - 29 and w.last_day
  group by 1, 2, 3, 4
) as g
left join sales_agents as a on g.dimension = 'agent' and a.id = g.entity_id
left join products as p on g.dimension = 'product' and p.id = g.entity_id
left join customers as c on g.dimension = 'customer' and c.id = g.entity_id
where g.sales_count <> 0;

-- Down Migration

-- The replaceable objects from sql/065 that stand on these tables go first.
drop trigger if exists _510_sync_period_names on customers;
drop trigger if exists _510_sync_period_names on products;
drop trigger if exists _510_sync_period_names on sales_agents;
drop trigger if exists _510_clear_period_stats_on_truncate on daily_sales_stats_folded;
drop trigger if exists _510_recount_period_stats_on_truncate on sales;
drop function if exists tg_sales__recount_period_stats();
drop function if exists tg__sync_period_sales_stats_name();
drop function if exists tg_daily_sales_stats_folded__clear_period_stats();
drop function if exists fold_period_sales_stats(daily_sales_stats_pending[]);
drop function if exists slide_period_sales_stats_window(date);
drop function if exists add_days_to_period_sales_stats_window(date, date, integer);
drop function if exists rebuild_period_sales_stats(date, date);
drop function if exists verify_period_sales_stats(date, date);
drop function if exists stats_entity_name(text, bigint);
drop index daily_sales_stats_pending_dimension_day_idx;
drop table period_sales_stats_window;
drop table period_sales_stats_folded;
