-- Per-period rankings: one row per (dimension, entity, period) in
-- period_sales_stats_folded for every calendar month, every calendar year and
-- the sliding last 30 days ('window'), each the sum of daily_sales_stats_folded
-- over the period's days. Readers add the range's pending deltas, as they do
-- for the daily rows, so a top 10 of a month reads ~10 index entries plus the
-- few pending deltas, not the month's (day, entity) rows.
--
-- Who writes the rows, always under the rollups' maintenance lock
-- (advisory ('tank', 1)), so each row has one writer at a time:
--   fold_daily_sales_stats()          adds its net deltas (fold_period_sales_stats)
--   slide_period_sales_stats_window() moves the window (the service's fold step)
--   rebuild_daily_sales_stats()       recomputes the periods of its days
--   a rename of an entity             copies the new name
-- A TRUNCATE of the folded daily rows (TRUNCATE sales, a full rebuild) empties them.

-- The name the pages show for an entity of a dimension.
-- No SET clause, so the planner can inline it (a function with one is called
-- row by row: 8 s of a 21 s fold of 106,000 deltas, measured); its callers
-- are security definer functions that set the search_path.
create or replace function stats_entity_name(dimension text, id bigint) returns text
language sql stable parallel safe
as $$
  select coalesce(case dimension
    when 'agent' then (select name from sales_agents where sales_agents.id = stats_entity_name.id)
    when 'product' then (select name from products where products.id = stats_entity_name.id)
    when 'customer' then (select name from customers where customers.id = stats_entity_name.id)
  end, '')
$$;
comment on function stats_entity_name(text, bigint) is
  'The current name of entity id of dimension (agent, product, customer); empty when there is none.';

-- Called by fold_daily_sales_stats() with the net deltas it has just moved
-- into the daily rows (same transaction, same lock): adds them to the month,
-- year and (for days inside it) window rows. One upsert of the net period keys.
create or replace function fold_period_sales_stats(deltas daily_sales_stats_pending[]) returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
  window_last date;
  emptied_dimensions text[];
  emptied_entities bigint[];
  emptied_periods text[];
  emptied_starts date[];
begin
  if coalesce(cardinality(deltas), 0) = 0 then
    return;
  end if;
  select last_day into window_last from period_sales_stats_window;

  with d as (
    select * from unnest(deltas)
  ), keyed as (
    select dimension, entity_id, 'month' as period, date_trunc('month', day::timestamp)::date as period_start, sales_count, total_price from d
    union all
    select dimension, entity_id, 'year', date_trunc('year', day::timestamp)::date, sales_count, total_price from d
    union all
    select dimension, entity_id, 'window', '-infinity'::date, sales_count, total_price from d
    where day between window_last - 29 and window_last
  ), net as (
    select dimension, entity_id, period, period_start, sum(sales_count)::bigint as sales_count, sum(total_price) as total_price
    from keyed
    group by dimension, entity_id, period, period_start
    having sum(sales_count) <> 0 or sum(total_price) <> 0
  ), merged as (
    insert into period_sales_stats_folded as f (dimension, entity_id, period, period_start, sales_count, total_price, name)
    -- Names by joins, not a lookup per row: a bulk fold joins them by hash.
    select n.dimension, n.entity_id, n.period, n.period_start, n.sales_count, n.total_price, coalesce(a.name, p.name, c.name, '')
    from net as n
    left join sales_agents as a on n.dimension = 'agent' and a.id = n.entity_id
    left join products as p on n.dimension = 'product' and p.id = n.entity_id
    left join customers as c on n.dimension = 'customer' and c.id = n.entity_id
    order by n.dimension, n.entity_id, n.period, n.period_start
    on conflict (dimension, entity_id, period, period_start) do update
      set sales_count = f.sales_count + excluded.sales_count,
          total_price = f.total_price + excluded.total_price
    returning f.dimension, f.entity_id, f.period, f.period_start, f.sales_count
  ), emptied as (
    select * from merged where sales_count = 0
  )
  select array(select dimension from emptied), array(select entity_id from emptied),
         array(select period from emptied), array(select period_start from emptied)
  into emptied_dimensions, emptied_entities, emptied_periods, emptied_starts;

  if cardinality(emptied_entities) > 0 then
    delete from period_sales_stats_folded as f
    using unnest(emptied_dimensions, emptied_entities, emptied_periods, emptied_starts) as e(dimension, entity_id, period, period_start)
    where f.dimension = e.dimension and f.entity_id = e.entity_id and f.period = e.period
      and f.period_start = e.period_start and f.sales_count = 0;
  end if;
end;
$$;
comment on function fold_period_sales_stats(daily_sales_stats_pending[]) is
  'Adds net daily deltas (as folded by fold_daily_sales_stats, in its transaction) to the month, year and window rows of period_sales_stats_folded.';

-- Adds (sign 1) or subtracts (sign -1) the folded daily rows of from_day..to_day
-- to the window rows. Caller holds the maintenance lock.
create or replace function add_days_to_period_sales_stats_window(from_day date, to_day date, sign integer) returns void
language sql volatile
set search_path = public, pg_temp
as $$
  with net as (
    select dimension, entity_id, sign * sum(sales_count)::bigint as sales_count, sign * sum(total_price) as total_price
    from daily_sales_stats_folded
    -- Leading-column list, so each dimension is an index range even without skip scans (PG < 18).
    where dimension in ('agent', 'product', 'customer') and day between from_day and to_day
    group by dimension, entity_id
  )
  insert into period_sales_stats_folded as f (dimension, entity_id, period, period_start, sales_count, total_price, name)
  select n.dimension, n.entity_id, 'window', '-infinity', n.sales_count, n.total_price, coalesce(a.name, p.name, c.name, '')
  from net as n
  left join sales_agents as a on n.dimension = 'agent' and a.id = n.entity_id
  left join products as p on n.dimension = 'product' and p.id = n.entity_id
  left join customers as c on n.dimension = 'customer' and c.id = n.entity_id
  order by n.dimension, n.entity_id
  on conflict (dimension, entity_id, period, period_start) do update
    set sales_count = f.sales_count + excluded.sales_count,
        total_price = f.total_price + excluded.total_price
$$;

-- Makes the window cover new_last_day - 29 .. new_last_day. Moving by d days
-- reads the folded daily rows of the d days that leave and the d that enter;
-- a move of 30 days or more recomputes the window. Returns false (and does
-- nothing) when a fold or rebuild holds the maintenance lock: the next call
-- slides. The service's fold step calls it every step with today in the
-- stats time zone; until it has slid, readers of the new last 30 days read
-- the range instead (they check last_day), so nothing is ever wrong, only slower.
create or replace function slide_period_sales_stats_window(new_last_day date) returns boolean
language plpgsql volatile security definer
set search_path = public, pg_temp
set work_mem = '64MB'
as $$
declare
  old_last date;
begin
  if (select last_day from period_sales_stats_window) = new_last_day then
    return true;  -- the common case, every second: no lock, no write
  end if;
  if not pg_try_advisory_xact_lock(1952541803, 1) then
    return false;
  end if;
  -- A statement of its own after the lock: sees the last slide committed by another session.
  select last_day into old_last from period_sales_stats_window;
  if old_last = new_last_day then
    return true;
  end if;

  if abs(new_last_day - old_last) >= 30 then
    delete from period_sales_stats_folded
      where dimension in ('agent', 'product', 'customer') and period = 'window' and period_start = '-infinity';
    perform add_days_to_period_sales_stats_window(new_last_day - 29, new_last_day, 1);
  elsif new_last_day > old_last then
    perform add_days_to_period_sales_stats_window(old_last - 29, new_last_day - 30, -1);
    perform add_days_to_period_sales_stats_window(old_last + 1, new_last_day, 1);
  else
    perform add_days_to_period_sales_stats_window(new_last_day + 1, old_last, -1);
    perform add_days_to_period_sales_stats_window(new_last_day - 29, old_last - 30, 1);
  end if;
  delete from period_sales_stats_folded
    where dimension in ('agent', 'product', 'customer') and period = 'window' and period_start = '-infinity'
      and sales_count = 0;
  update period_sales_stats_window set last_day = new_last_day;
  return true;
end;
$$;
comment on function slide_period_sales_stats_window(date) is
  'Moves the window rows of period_sales_stats_folded to the 30 days ending new_last_day; false when the maintenance lock is busy (try again).';

-- Called by rebuild_daily_sales_stats(from_day, to_day) after it has patched
-- the folded daily rows of those days (same transaction, same locks). Each
-- month touching the range is recomputed from its daily rows and each year it
-- touches from its month rows, so rebuilding a month reads a month of daily
-- rows and a year of month rows, and writes only the rows that differ; the
-- window is recomputed when it overlaps. Both bounds null: everything.
create or replace function rebuild_period_sales_stats(from_day date, to_day date) returns void
language plpgsql volatile security definer
set search_path = public, pg_temp
set work_mem = '256MB'
as $$
declare
  window_last date;
  low date := coalesce(date_trunc('month', from_day::timestamp)::date, '-infinity');
  high date := coalesce((date_trunc('month', to_day::timestamp) + interval '1 month' - interval '1 day')::date, 'infinity');
begin
  select last_day into window_last from period_sales_stats_window;

  if from_day is null and to_day is null then
    -- The daily rows were truncated and reloaded, which emptied these
    -- (tg_daily_sales_stats_folded__clear_period_stats); load them again.
    truncate period_sales_stats_folded;
    insert into period_sales_stats_folded (dimension, entity_id, period, period_start, sales_count, total_price, name)
    select dimension, entity_id, period, period_start, sales_count, total_price, stats_entity_name(dimension, entity_id)
    from (
      select dimension, entity_id, 'month' as period, date_trunc('month', day::timestamp)::date as period_start,
             sum(sales_count)::bigint as sales_count, sum(total_price) as total_price
      from daily_sales_stats_folded group by 1, 2, 3, 4
      union all
      select dimension, entity_id, 'year', date_trunc('year', day::timestamp)::date, sum(sales_count)::bigint, sum(total_price)
      from daily_sales_stats_folded group by 1, 2, 3, 4
    ) as g
    where sales_count <> 0
    order by dimension, entity_id, period, period_start;
    perform add_days_to_period_sales_stats_window(window_last - 29, window_last, 1);
    return;
  end if;

  -- The months that the range touches, recounted from their daily rows, beside their stored rows.
  create temp table period_rebuild_months on commit drop as
  with fresh as (
    select dimension, entity_id, date_trunc('month', day::timestamp)::date as period_start,
           sum(sales_count)::bigint as sales_count, sum(total_price) as total_price
    from daily_sales_stats_folded
    where dimension in ('agent', 'product', 'customer') and day between low and high
    group by 1, 2, 3
  ), stored as (
    select dimension, entity_id, period_start, sales_count, total_price, name
    from period_sales_stats_folded
    where dimension in ('agent', 'product', 'customer') and period = 'month' and period_start between low and high
  )
  select coalesce(f.dimension, s.dimension) as dimension, coalesce(f.entity_id, s.entity_id) as entity_id,
         coalesce(f.period_start, s.period_start) as period_start,
         f.sales_count as fresh_count, f.total_price as fresh_total,
         coalesce(f.sales_count, 0) - coalesce(s.sales_count, 0) as count_change,
         coalesce(f.total_price, 0) - coalesce(s.total_price, 0) as total_change,
         s.entity_id is not null as stored, s.name as stored_name,
         -- Names by joins, as the fold does them.
         coalesce(ag.name, pr.name, cu.name, '') as current_name
  from fresh as f full join stored as s
    on s.dimension = f.dimension and s.entity_id = f.entity_id and s.period_start = f.period_start
  left join sales_agents as ag on coalesce(f.dimension, s.dimension) = 'agent' and ag.id = coalesce(f.entity_id, s.entity_id)
  left join products as pr on coalesce(f.dimension, s.dimension) = 'product' and pr.id = coalesce(f.entity_id, s.entity_id)
  left join customers as cu on coalesce(f.dimension, s.dimension) = 'customer' and cu.id = coalesce(f.entity_id, s.entity_id);
  analyze period_rebuild_months;

  -- The month rows are patched, not rewritten: only those whose sums (or
  -- copied name) differ are written. (Deleting and reinserting a month's
  -- 101k rows, four indexes each, cost 6 s at 10M sales.)
  delete from period_sales_stats_folded as f
    using period_rebuild_months as m
    where m.stored and coalesce(m.fresh_count, 0) = 0
      and f.dimension = m.dimension and f.entity_id = m.entity_id and f.period = 'month' and f.period_start = m.period_start;
  update period_sales_stats_folded as f
    set sales_count = m.fresh_count, total_price = m.fresh_total, name = m.current_name
    from period_rebuild_months as m
    where m.stored and m.fresh_count <> 0
      and (m.count_change <> 0 or m.total_change <> 0 or m.stored_name is distinct from m.current_name)
      and f.dimension = m.dimension and f.entity_id = m.entity_id and f.period = 'month' and f.period_start = m.period_start;
  insert into period_sales_stats_folded (dimension, entity_id, period, period_start, sales_count, total_price, name)
  select dimension, entity_id, 'month', period_start, fresh_count, fresh_total, current_name
  from period_rebuild_months
  where not stored and fresh_count <> 0
  order by 1, 2, 3, 4;
  -- Then each year the range touches becomes the sum of its month rows: those
  -- just recounted and the others as stored. A year is therefore exact when
  -- its months are, whatever state its row was in, and a rebuild of a whole
  -- year repairs it. (Adding the recounted months' change to the stored year
  -- instead, as before, carried any damage of a stored month row into its
  -- year.) Reads the month rows of the touched years: about 12 per entity.
  with years as (
    select distinct date_trunc('year', m.period_start::timestamp)::date as period_start from period_rebuild_months as m
  ), fresh as (
    select f.dimension, f.entity_id, y.period_start, sum(f.sales_count)::bigint as sales_count, sum(f.total_price) as total_price,
           min(f.name) as name
    from years as y
    join period_sales_stats_folded as f
      on f.dimension in ('agent', 'product', 'customer') and f.period = 'month'
     and f.period_start >= y.period_start and f.period_start < y.period_start + interval '1 year'
    group by 1, 2, 3
  ), stored as (
    select f.dimension, f.entity_id, f.period_start, f.sales_count, f.total_price
    from years as y
    join period_sales_stats_folded as f
      on f.dimension in ('agent', 'product', 'customer') and f.period = 'year' and f.period_start = y.period_start
  ), changed as (
    select coalesce(n.dimension, o.dimension) as dimension, coalesce(n.entity_id, o.entity_id) as entity_id,
           coalesce(n.period_start, o.period_start) as period_start,
           n.sales_count, n.total_price, n.name, o.entity_id is not null as stored
    from fresh as n full join stored as o
      on o.dimension = n.dimension and o.entity_id = n.entity_id and o.period_start = n.period_start
    where n.sales_count is distinct from o.sales_count or n.total_price is distinct from o.total_price
  ), removed as (
    delete from period_sales_stats_folded as f using changed as c
    where c.sales_count is null and f.dimension = c.dimension and f.entity_id = c.entity_id
      and f.period = 'year' and f.period_start = c.period_start
  ), updated as (
    update period_sales_stats_folded as f set sales_count = c.sales_count, total_price = c.total_price
    from changed as c
    where c.stored and c.sales_count is not null and f.dimension = c.dimension and f.entity_id = c.entity_id
      and f.period = 'year' and f.period_start = c.period_start
  )
  insert into period_sales_stats_folded (dimension, entity_id, period, period_start, sales_count, total_price, name)
  select c.dimension, c.entity_id, 'year', c.period_start, c.sales_count, c.total_price, c.name
  from changed as c
  where not c.stored and c.sales_count is not null
  order by 1, 2, 3, 4;

  drop table period_rebuild_months;

  if coalesce(from_day, '-infinity') <= window_last and coalesce(to_day, 'infinity') >= window_last - 29 then
    delete from period_sales_stats_folded
      where dimension in ('agent', 'product', 'customer') and period = 'window' and period_start = '-infinity';
    perform add_days_to_period_sales_stats_window(window_last - 29, window_last, 1);
  end if;
end;
$$;
comment on function rebuild_period_sales_stats(date, date) is
  'Recomputes the period rows (months and years touching from_day..to_day, the window when it overlaps; null..null: all) from daily_sales_stats_folded. Called by rebuild_daily_sales_stats.';

-- verify for the period rows is part of verify_daily_sales_stats (sql/070):
-- one pass over sales serves both.

-- Emptying the folded daily rows (TRUNCATE sales, a full rebuild) empties
-- their sums. A trigger rather than a line in tg_sales__clear_stats, so it
-- holds whatever truncates the folded table.
create or replace function tg_daily_sales_stats_folded__clear_period_stats() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
begin
  truncate period_sales_stats_folded;
  return null;
end;
$$;
comment on function tg_daily_sales_stats_folded__clear_period_stats() is
  'AFTER TRUNCATE trigger on daily_sales_stats_folded: empties period_sales_stats_folded.';

create or replace trigger _510_clear_period_stats_on_truncate after truncate on daily_sales_stats_folded
  for each statement execute function tg_daily_sales_stats_folded__clear_period_stats();

-- TRUNCATE of sales while months are archived deletes the live days' daily
-- rows (tg_sales__clear_stats keeps the archived ones), which fires no
-- TRUNCATE on the folded table: recount the periods of the live days from
-- what is left. Without archived months the folded table was truncated and
-- these rows with it.
create or replace function tg_sales__recount_period_stats() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
  first_live date := sales_first_live_day();
begin
  if first_live is not null then
    perform rebuild_period_sales_stats(first_live, null);
  end if;
  return null;
end;
$$;
comment on function tg_sales__recount_period_stats() is
  'AFTER TRUNCATE trigger on sales (after _500_clear_stats_on_truncate): recounts the period rows of the live days when months are archived.';

create or replace trigger _510_recount_period_stats_on_truncate after truncate on sales
  for each statement execute function tg_sales__recount_period_stats();

-- Renames copy the new name into the entity's period rows. The maintenance
-- lock first: the fold writes these rows too, and two writers locking them in
-- different orders could deadlock. (So a transaction that renames holds off
-- the fold until it commits; renames are rare.) Transition tables, not a
-- column list (PostgreSQL allows only one of them): updates that keep the
-- name cost a join of the statement's rows and nothing more.
create or replace function tg__sync_period_sales_stats_name() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
begin
  if not exists (select from new_rows as n join old_rows as o on o.id = n.id where n.name is distinct from o.name) then
    return null;
  end if;
  perform pg_advisory_xact_lock(1952541803, 1);
  update period_sales_stats_folded as p set name = n.name
  from new_rows as n join old_rows as o on o.id = n.id
  where n.name is distinct from o.name and p.dimension = tg_argv[0] and p.entity_id = n.id;
  return null;
end;
$$;
comment on function tg__sync_period_sales_stats_name() is
  'AFTER UPDATE statement trigger on customers, products and sales_agents (argument: the dimension): copies renamed entities'' names into period_sales_stats_folded.';

create or replace trigger _510_sync_period_names after update on customers
  referencing old table as old_rows new table as new_rows
  for each statement execute function tg__sync_period_sales_stats_name('customer');
create or replace trigger _510_sync_period_names after update on products
  referencing old table as old_rows new table as new_rows
  for each statement execute function tg__sync_period_sales_stats_name('product');
create or replace trigger _510_sync_period_names after update on sales_agents
  referencing old table as old_rows new table as new_rows
  for each statement execute function tg__sync_period_sales_stats_name('agent');
