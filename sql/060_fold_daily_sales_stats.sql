-- Moves the committed pending deltas into the folded rollups, in one
-- transaction, so every snapshot sees each delta exactly once: either still
-- pending or already folded. Deltas of transactions still in flight are not
-- visible to the fold's snapshot and wait for the next fold.
--
-- Folds take an advisory lock so that only one runs at a time (and never beside
-- a rebuild): the folded rows are then only ever locked by one transaction,
-- which cannot deadlock. A fold that finds the lock taken returns 0 at once;
-- the running fold or the next one will take the deltas.
--
-- Cost: one index probe per net key (ON CONFLICT), whatever the size of the
-- folded table, so a fold every second stays cheap at any scale.
create or replace function fold_daily_sales_stats() returns bigint
language plpgsql volatile security definer
set search_path = public, pg_temp
set work_mem = '256MB'
as $$
declare
  folded_deltas bigint;
  emptied_dimensions text[];
  emptied_days date[];
  emptied_entities bigint[];
  net_deltas daily_sales_stats_pending[];  -- for the period rows (sql/065)
begin
  if not pg_try_advisory_xact_lock(1952541803, 1) then  -- ('tank', 1): the rollups' maintenance lock
    return 0;
  end if;

  with moved as (
    delete from daily_sales_stats_pending
    returning dimension, day, entity_id, sales_count, total_price
  ), net as (
    select dimension, day, entity_id, sum(sales_count)::bigint as sales_count,
           sum(total_price) as total_price, count(*) as deltas
    from moved
    group by dimension, day, entity_id
  ), merged as (
    insert into daily_sales_stats_folded as f (dimension, day, entity_id, sales_count, total_price)
    select dimension, day, entity_id, sales_count, total_price
    from net
    where sales_count <> 0 or total_price <> 0
    order by dimension, day, entity_id
    on conflict (dimension, day, entity_id) do update
      set sales_count = f.sales_count + excluded.sales_count,
          total_price = f.total_price + excluded.total_price
    returning f.dimension, f.day, f.entity_id, f.sales_count
  ), emptied as (
    select dimension, day, entity_id from merged where sales_count = 0
  )
  select (select coalesce(sum(deltas), 0) from net),
         array(select dimension from emptied), array(select day from emptied),
         array(select entity_id from emptied),
         array(select row(dimension, day, entity_id, sales_count, total_price)::daily_sales_stats_pending from net
               where sales_count <> 0 or total_price <> 0)
  into folded_deltas, emptied_dimensions, emptied_days, emptied_entities, net_deltas;

  -- A key whose count reached zero has no sales left: its row goes. (A
  -- sibling sub-statement cannot delete a row the upsert just wrote, hence
  -- the second statement.)
  if cardinality(emptied_days) > 0 then
    delete from daily_sales_stats_folded as f
    using unnest(emptied_dimensions, emptied_days, emptied_entities) as e(dimension, day, entity_id)
    where f.dimension = e.dimension and f.day = e.day and f.entity_id = e.entity_id
      and f.sales_count = 0;
  end if;

  -- The month, year and window rows (sql/065); absent while migrations are undone below 1764059000000.
  if to_regprocedure('fold_period_sales_stats(daily_sales_stats_pending[])') is not null then
    perform fold_period_sales_stats(net_deltas);
  end if;
  return folded_deltas;
end;
$$;
comment on function fold_daily_sales_stats() is
  'Merges committed daily_sales_stats_pending deltas into daily_sales_stats_folded; returns how many deltas it folded (0 when another fold holds the lock). Safe to call at any time, from any number of sessions.';
