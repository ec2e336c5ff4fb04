-- Writers of sales record their effect on the rollups as deltas, aggregated per
-- statement from the transition tables: a COPY of a million rows costs three
-- hash aggregations and one insert of the groups, not a million upserts.
--
-- Why deltas and not upserts into the rollups: an upsert locks the rollup row
-- until commit, so every writer of a hot key (one agent, one day) would queue
-- behind the previous one, and two multi-statement transactions that touch the
-- same keys in different orders would deadlock. An insert into the pending
-- table, which has no unique key, waits for nobody. fold_daily_sales_stats()
-- later merges the deltas in a transaction of its own.
--
-- One pass over the statement's rows serves all three dimensions: the grouping
-- sets (day, agent), (day, product) and (day, customer); in each set the other
-- two ids are null, which is how the dimension is read back.

-- work_mem: a bulk statement's aggregation (a million-row COPY has about 1.5
-- million groups) otherwise spills to disk at the default 4 MB; small
-- statements never reach the limit, so it costs them nothing.
create or replace function tg_sales__record_stats() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
set work_mem = '64MB'
as $$
begin
  -- The zone is joined in (stats_settings has one row) rather than read into
  -- a variable first: one cached plan a statement instead of an extra query.
  if tg_op = 'INSERT' then
    insert into daily_sales_stats_pending (dimension, day, entity_id, sales_count, total_price)
    select case when grouping(sales_agent_id) = 0 then 'agent'
                when grouping(product_id) = 0 then 'product'
                else 'customer' end,
           day, coalesce(sales_agent_id, product_id, customer_id), count(*), sum(price)
    from (select sale_day(n.created_at, z.time_zone) as day, n.sales_agent_id, n.product_id, n.customer_id, n.price
          from new_sales as n cross join stats_settings as z) as s
    group by grouping sets ((day, sales_agent_id), (day, product_id), (day, customer_id));

  elsif tg_op = 'DELETE' then
    insert into daily_sales_stats_pending (dimension, day, entity_id, sales_count, total_price)
    select case when grouping(sales_agent_id) = 0 then 'agent'
                when grouping(product_id) = 0 then 'product'
                else 'customer' end,
           day, coalesce(sales_agent_id, product_id, customer_id), -count(*), -sum(price)
    from (select sale_day(o.created_at, z.time_zone) as day, o.sales_agent_id, o.product_id, o.customer_id, o.price
          from old_sales as o cross join stats_settings as z) as s
    group by grouping sets ((day, sales_agent_id), (day, product_id), (day, customer_id));

  else -- UPDATE: the new rows count in, the old rows count out; keys whose net
       -- change is nothing (an update of updated_at, say) write no delta.
    insert into daily_sales_stats_pending (dimension, day, entity_id, sales_count, total_price)
    select case when grouping(sales_agent_id) = 0 then 'agent'
                when grouping(product_id) = 0 then 'product'
                else 'customer' end,
           day, coalesce(sales_agent_id, product_id, customer_id), sum(sign), sum(amount)
    from (select sale_day(n.created_at, z.time_zone) as day, n.sales_agent_id, n.product_id, n.customer_id,
                 1 as sign, n.price as amount
          from new_sales as n cross join stats_settings as z
          union all
          select sale_day(o.created_at, z.time_zone), o.sales_agent_id, o.product_id, o.customer_id,
                 -1, -o.price
          from old_sales as o cross join stats_settings as z) as s
    group by grouping sets ((day, sales_agent_id), (day, product_id), (day, customer_id))
    having sum(sign) <> 0 or sum(amount) <> 0;
  end if;
  return null;
end;
$$;
comment on function tg_sales__record_stats() is
  'AFTER statement trigger on sales: appends the statement''s net effect per (dimension, day, entity) to daily_sales_stats_pending.';

-- TRUNCATE removes every sale, so it removes every rollup, in the same
-- transaction (a rolled-back TRUNCATE brings both back). TRUNCATE holds an
-- ACCESS EXCLUSIVE lock on sales, so no writer can add a delta meanwhile.
-- Archived months (sql/075) are the exception: their stats are history that
-- outlives the raw rows, so a TRUNCATE of sales keeps them and empties only the
-- live days (sales_first_live_day()).
--
-- sales is partitioned (by month): a TRUNCATE of the parent fires the TRUNCATE
-- triggers of every partition too, in the order parent BEFORE, partitions'
-- BEFORE, parent AFTER, partitions' AFTER (tested on PG 15 and 18:
-- test/stats/partitioned-sales-triggers.test.ts). A TRUNCATE of one partition
-- fires only its own. So each partition subtracts its rows in a BEFORE
-- TRUNCATE trigger (tg_sales_partition__subtract_on_truncate), and the
-- parent's BEFORE trigger first sets a transaction-local mark that tells them
-- the whole table goes: its AFTER trigger then clears the rollups at once
-- instead of paying an aggregation over every partition.
create or replace function tg_sales__mark_truncate() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
set work_mem = '64MB'
as $$
declare
  cutoff timestamptz := sales_archive_cutoff();
  first_live timestamptz;
begin
  perform set_config('tanktop.truncating_sales', 'on', true);
  -- In a business zone other than UTC the day holding the archive cutoff has
  -- archived sales (kept in its stats) and live ones (about to go): only the
  -- live ones are subtracted, while they can still be counted.
  if cutoff is not null then
    first_live := sales_first_live_day()::timestamp at time zone stats_time_zone();
    if first_live > cutoff then
      insert into daily_sales_stats_pending (dimension, day, entity_id, sales_count, total_price)
      select dimension, day, entity_id, -sales_count, -total_price
      from daily_sales_stats_from_sales(cutoff, first_live);
    end if;
  end if;
  return null;
end;
$$;
comment on function tg_sales__mark_truncate() is
  'BEFORE TRUNCATE trigger on sales: marks the transaction so the partitions'' TRUNCATE triggers leave the rollups to the parent''s AFTER trigger.';

create or replace function tg_sales__clear_stats() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
  first_live date := sales_first_live_day();
begin
  perform set_config('tanktop.truncating_sales', '', true);
  if first_live is null then
    truncate daily_sales_stats_folded, daily_sales_stats_pending;
  else
    delete from daily_sales_stats_pending where day >= first_live;
    delete from daily_sales_stats_folded where day >= first_live;
  end if;
  return null;
end;
$$;
comment on function tg_sales__clear_stats() is
  'AFTER TRUNCATE trigger on sales: empties the rollups (of the live days, when months are archived).';

-- A TRUNCATE of one partition (one month, or the default partition) takes its
-- rows' effect out of the rollups: one aggregation over the partition, read
-- before it is emptied, under the TRUNCATE's ACCESS EXCLUSIVE lock.
create or replace function tg_sales_partition__subtract_on_truncate() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
set work_mem = '64MB'
as $$
begin
  if current_setting('tanktop.truncating_sales', true) = 'on' then
    return null; -- the whole of sales goes: the parent's AFTER trigger clears the rollups
  end if;
  execute format($sql$
    insert into daily_sales_stats_pending (dimension, day, entity_id, sales_count, total_price)
    select case when grouping(sales_agent_id) = 0 then 'agent'
                when grouping(product_id) = 0 then 'product'
                else 'customer' end,
           day, coalesce(sales_agent_id, product_id, customer_id), -count(*), -sum(price)
    from (select sale_day(p.created_at, z.time_zone) as day, p.sales_agent_id, p.product_id, p.customer_id, p.price
          from %s as p cross join stats_settings as z) as s
    group by grouping sets ((day, sales_agent_id), (day, product_id), (day, customer_id))$sql$,
    tg_relid::regclass);
  return null;
end;
$$;
comment on function tg_sales_partition__subtract_on_truncate() is
  'BEFORE TRUNCATE trigger on each partition of sales: subtracts the partition''s rows from the rollups, unless the whole of sales is being truncated.';

-- On the partitioned parent: statement triggers with transition tables see the
-- rows of every partition a statement routed to, COPY included, and an UPDATE
-- that moves a sale to another month appears in the UPDATE trigger's OLD and
-- NEW tables (no DELETE or INSERT trigger fires). A statement that names a
-- partition itself fires that partition's triggers, never the parent's: each
-- partition carries the same three triggers (prepare_sales_partition(),
-- sql/045). A statement fires the triggers of the table it names only, so no
-- sale is counted twice.
create or replace trigger _500_record_stats_on_insert after insert on sales
  referencing new table as new_sales
  for each statement execute function tg_sales__record_stats();
create or replace trigger _500_record_stats_on_update after update on sales
  referencing old table as old_sales new table as new_sales
  for each statement execute function tg_sales__record_stats();
create or replace trigger _500_record_stats_on_delete after delete on sales
  referencing old table as old_sales
  for each statement execute function tg_sales__record_stats();
create or replace trigger _500_mark_truncate before truncate on sales
  for each statement execute function tg_sales__mark_truncate();
create or replace trigger _500_clear_stats_on_truncate after truncate on sales
  for each statement execute function tg_sales__clear_stats();
