-- verify: the rows where the rollups and a fresh GROUP BY over sales differ,
-- for the days from_day..to_day (inclusive; null means unbounded): the daily
-- rows, and the period rows (sql/065) of every month, year and window wholly
-- inside those days, whose dimension reads "<dimension> <period>" (" name"
-- appended when a row's copied name is stale). One statement, so one
-- snapshot: exact even while writers are busy. The created_at bounds prune
-- sales to the partitions of those days.
--
-- One pass over sales: the fresh daily rows are computed once (a
-- materialized CTE) and serve both comparisons; each side reads only the
-- rows of its days, the period side only the periods it compares. Measured
-- at 10M sales, one month (925k sales): 17.8 s when the period side read
-- sales a second time and joined every period row of every month and year.
-- PL/pgSQL so that the bounds are values when the query is planned: as
-- sub-selects they kept the planner from inlining daily_sales_stats_from_sales.
--
-- Archived days (before sales_first_live_day(), sql/025) are not compared:
-- their raw rows are gone and their stats are history (nor is a month or
-- year that holds one). In a business zone other than UTC that includes the
-- one day holding the archive cutoff.
create or replace function verify_daily_sales_stats(from_day date, to_day date)
returns table (day date, dimension text, entity_id bigint,
               expected_count bigint, expected_total numeric,
               actual_count bigint, actual_total numeric)
language plpgsql stable security definer
set search_path = public, pg_temp
set work_mem = '256MB'
as $$
#variable_conflict use_column
declare
  v_first date := coalesce(greatest(from_day, sales_first_live_day()), '-infinity');
  v_last date := coalesce(to_day, 'infinity');
  v_zone text := stats_time_zone();
  v_since timestamptz;
  v_until timestamptz;
  v_window_last date;
  -- The periods wholly inside v_first..v_last: month starts in v_month_lo..v_month_hi, year starts likewise.
  v_month_lo date;
  v_month_hi date;
  v_year_lo date;
  v_year_hi date;
  v_window boolean;
begin
  v_since := case when v_first = '-infinity' then '-infinity' else v_first::timestamp at time zone v_zone end;
  v_until := case when v_last = 'infinity' then 'infinity' else (v_last + 1)::timestamp at time zone v_zone end;
  select w.last_day into v_window_last from period_sales_stats_window as w;
  v_month_lo := case when v_first = '-infinity' then v_first else (date_trunc('month', (v_first - 1)::timestamp) + interval '1 month')::date end;
  v_month_hi := case when v_last = 'infinity' then v_last else (date_trunc('month', (v_last + 1)::timestamp) - interval '1 month')::date end;
  v_year_lo := case when v_first = '-infinity' then v_first else (date_trunc('year', (v_first - 1)::timestamp) + interval '1 year')::date end;
  v_year_hi := case when v_last = 'infinity' then v_last else (date_trunc('year', (v_last + 1)::timestamp) - interval '1 year')::date end;
  v_window := v_window_last - 29 >= v_first and v_window_last <= v_last;

  return query
  with fresh as materialized (
    select * from daily_sales_stats_from_sales(v_since, v_until)
  ), pending as materialized (
    select p.dimension, p.day, p.entity_id, p.sales_count, p.total_price
    from daily_sales_stats_pending as p
    where p.day between v_first and v_last
  ), daily_sides as (
    -- Each key's fresh row (side 0) beside what readers of daily_sales_stats see: its folded row
    -- (1) plus its pending deltas (2). One aggregation rather than full joins: each side holds a
    -- key at most once but for the deltas, and a hash aggregate needs no sort. The dimension list
    -- makes the days a range of the primary key in each dimension, even without skip scans (PG < 18).
    select d.dimension, d.day, d.entity_id,
           sum(d.sales_count) filter (where d.side = 0)::bigint as expected_count,
           sum(d.total_price) filter (where d.side = 0) as expected_total,
           sum(d.sales_count) filter (where d.side <> 0)::bigint as actual_count,
           sum(d.total_price) filter (where d.side <> 0) as actual_total
    from (select f.dimension, f.day, f.entity_id, f.sales_count, f.total_price, 0 as side from fresh as f
          union all
          select f.dimension, f.day, f.entity_id, f.sales_count, f.total_price, 1 from daily_sales_stats_folded as f
          where f.dimension in ('agent', 'product', 'customer') and f.day between v_first and v_last
          union all
          select p.dimension, p.day, p.entity_id, p.sales_count, p.total_price, 2 from pending as p) as d
    group by 1, 2, 3
  ), daily_differences as (
    -- A key whose count sums to zero is not a row of daily_sales_stats (its HAVING).
    select d.day, d.dimension, d.entity_id, d.expected_count, d.expected_total,
           case when d.actual_count <> 0 then d.actual_count end as actual_count,
           case when d.actual_count <> 0 then d.actual_total end as actual_total
    from daily_sides as d
  ), period_sides as (
    -- Each compared period's expected sums (side 0, the fresh days under it) beside its stored row
    -- (1, with the entity's current name by joins) and its pending deltas (2).
    select k.dimension, k.entity_id, k.period, k.period_start,
           sum(k.sales_count) filter (where k.side = 0)::bigint as expected_count,
           sum(k.total_price) filter (where k.side = 0) as expected_total,
           sum(k.sales_count) filter (where k.side <> 0)::bigint as actual_count,
           sum(k.total_price) filter (where k.side <> 0) as actual_total,
           coalesce(bool_or(k.stale_name), false) as stale_name
    from (select d.dimension, d.entity_id, pk.period, pk.period_start, d.sales_count, d.total_price, d.side, null::boolean as stale_name
          from (select f.dimension, f.day, f.entity_id, f.sales_count, f.total_price, 0 as side from fresh as f
                union all
                select p.dimension, p.day, p.entity_id, p.sales_count, p.total_price, 2 from pending as p) as d
          cross join lateral (
            select 'month' as period, date_trunc('month', d.day::timestamp)::date as period_start
            where d.day >= v_month_lo and d.day < v_month_hi + interval '1 month'
            union all
            select 'year', date_trunc('year', d.day::timestamp)::date
            where d.day >= v_year_lo and d.day < v_year_hi + interval '1 year'
            union all
            select 'window', '-infinity'::date
            where v_window and d.day between v_window_last - 29 and v_window_last
          ) as pk
          union all
          -- Only the stored rows of the compared periods: an index range of each sort's index.
          select f.dimension, f.entity_id, f.period, f.period_start, f.sales_count, f.total_price, 1,
                 f.name is distinct from coalesce(ag.name, pr.name, cu.name, '')
          from period_sales_stats_folded as f
          left join sales_agents as ag on f.dimension = 'agent' and ag.id = f.entity_id
          left join products as pr on f.dimension = 'product' and pr.id = f.entity_id
          left join customers as cu on f.dimension = 'customer' and cu.id = f.entity_id
          where f.dimension in ('agent', 'product', 'customer')
            and ((f.period = 'month' and f.period_start between v_month_lo and v_month_hi)
                 or (f.period = 'year' and f.period_start between v_year_lo and v_year_hi)
                 or (v_window and f.period = 'window' and f.period_start = '-infinity'))) as k
    group by 1, 2, 3, 4
  ), period_differences as (
    -- A stored row plus deltas that sums to nothing is no row (readers skip it).
    select d.period_start, d.dimension || ' ' || d.period as what, d.entity_id, d.expected_count, d.expected_total,
           case when present then d.actual_count end as actual_count,
           case when present then d.actual_total end as actual_total,
           present and d.stale_name as stale_name
    from period_sides as d
    cross join lateral (select d.actual_count <> 0 or d.actual_total <> 0 as present) as a
  )
  select d.day, d.dimension, d.entity_id, d.expected_count, d.expected_total, d.actual_count, d.actual_total
  from daily_differences as d
  where d.expected_count is distinct from d.actual_count
     or d.expected_total is distinct from d.actual_total
  union all
  select d.period_start, d.what || case when d.stale_name then ' name' else '' end,
         d.entity_id, d.expected_count, d.expected_total, d.actual_count, d.actual_total
  from period_differences as d
  where d.expected_count is distinct from d.actual_count
     or d.expected_total is distinct from d.actual_total
     or d.stale_name
  order by 1, 2, 3;
end;
$$;
comment on function verify_daily_sales_stats(date, date) is
  'Rows where daily_sales_stats, or a period row of a month, year or window wholly inside the days, differs from a fresh GROUP BY over sales, for the days from_day..to_day (null: unbounded) that are not archived; none when the rollups are exact.';

-- Now part of the one pass above.
drop function if exists verify_period_sales_stats(date, date);

create or replace function verify_daily_sales_stats()
returns table (day date, dimension text, entity_id bigint,
               expected_count bigint, expected_total numeric,
               actual_count bigint, actual_total numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select * from verify_daily_sales_stats(null::date, null::date)
$$;
comment on function verify_daily_sales_stats() is
  'Rows where daily_sales_stats differs from a fresh GROUP BY over sales (every day not archived); none when the rollups are exact.';

-- rebuild: recount the days from_day..to_day (inclusive; null means unbounded)
-- from sales. Also how to adopt a database whose sales predate the triggers.
-- A full rebuild replaces every row. Emptying the table, loading it and then
-- building its indexes once (sorted, in bulk) is several times faster than
-- maintaining them row by row, the way pg_restore loads a table. The index
-- definitions are read from the catalog, so they never drift from the
-- migrations. Readers wait while a full rebuild runs (TRUNCATE's lock); a
-- ranged rebuild patches its days under MVCC instead: it writes only the
-- rows that differ from the recount.
--
-- Archived days (sql/025, sql/075) have no raw rows left to recount, so a
-- rebuild never touches them: an unbounded start means the first live day,
-- and a range that names an archived day is refused (TT021) rather than
-- wiping its stats. A full rebuild with archived months is a ranged one from
-- the first live day.
create or replace function rebuild_daily_sales_stats_indexes_detach() returns void
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
  definition record;
begin
  truncate daily_sales_stats_folded, daily_sales_stats_pending;
  create temp table if not exists rebuild_stats_index_ddl (ddl text not null) on commit drop;
  for definition in
    select format('alter table daily_sales_stats_folded add constraint %I %s', conname, pg_get_constraintdef(oid)) as ddl,
           format('alter table daily_sales_stats_folded drop constraint %I', conname) as dropper
    from pg_constraint where conrelid = 'daily_sales_stats_folded'::regclass and conindid <> 0
    union all
    select pg_get_indexdef(i.indexrelid), format('drop index %s', i.indexrelid::regclass)
    from pg_index as i
    where i.indrelid = 'daily_sales_stats_folded'::regclass
      and not exists (select from pg_constraint as c where c.conindid = i.indexrelid)
  loop
    insert into rebuild_stats_index_ddl values (definition.ddl);
    execute definition.dropper;
  end loop;
end;
$$;

create or replace function rebuild_daily_sales_stats_indexes_attach() returns void
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
  ddl text;
begin
  for ddl in select r.ddl from rebuild_stats_index_ddl as r loop
    execute ddl;
  end loop;
  drop table rebuild_stats_index_ddl;
end;
$$;

create or replace function rebuild_daily_sales_stats(from_day date default null, to_day date default null)
returns bigint
language plpgsql volatile security definer
set search_path = public, pg_temp
set work_mem = '256MB'
as $$
declare
  zone text;
  rebuilt bigint;
  first_live date;
begin
  if from_day > to_day then
    raise exception using errcode = 'TT002',
      message = format('cannot rebuild: from %s is after to %s', from_day, to_day);
  end if;

  -- SHARE waits for the writers in flight and holds off new ones until commit,
  -- so the recount and the deltas cannot cross; readers are not blocked. Then
  -- the maintenance lock keeps the fold away from the rows being replaced.
  lock table sales in share mode;
  perform pg_advisory_xact_lock(1952541803, 1);

  zone := stats_time_zone();
  first_live := sales_first_live_day();
  if first_live is not null then
    if from_day < first_live or to_day < first_live then
      raise exception using errcode = 'TT021',
        message = format('cannot rebuild %s to %s: the days before %s are archived, their sales are gone and their stats are kept',
                         coalesce(from_day::text, 'the first day'), coalesce(to_day::text, 'the last day'), first_live),
        hint = format('rebuild from %s on', first_live);
    end if;
    from_day := coalesce(from_day, first_live);
  end if;
  if from_day is null and to_day is null then
    perform rebuild_daily_sales_stats_indexes_detach();
    insert into daily_sales_stats_folded (dimension, day, entity_id, sales_count, total_price)
    select dimension, day, entity_id, sales_count, total_price
    from daily_sales_stats_from_sales('-infinity', 'infinity')
    order by dimension, day, entity_id;
    get diagnostics rebuilt = row_count;
    perform rebuild_daily_sales_stats_indexes_attach();
  else
    -- A ranged rebuild patches: it compares the recount with the stored rows
    -- and writes only the keys that differ. Rewriting every row of a month
    -- cost 23 of a rebuild's 28 s at 10M sales (a month is 712k rows, each a
    -- random insert into both indexes beside its own dead copy); a month
    -- that is exact is now a read, and writes (and ETag moves) nothing.
    delete from daily_sales_stats_pending
      where day between coalesce(from_day, '-infinity') and coalesce(to_day, 'infinity');
    create temp table rebuild_daily_changes on commit drop as
    select coalesce(e.dimension, f.dimension) as dimension, coalesce(e.day, f.day) as day,
           coalesce(e.entity_id, f.entity_id) as entity_id,
           e.sales_count, e.total_price, f.entity_id is not null as stored
    from daily_sales_stats_from_sales(
           case when from_day is null then '-infinity' else from_day::timestamp at time zone zone end,
           case when to_day is null then 'infinity' else (to_day + 1)::timestamp at time zone zone end) as e
    -- The dimension list: the days as a primary-key range (see verify), not a scan of every month.
    full join (select f.dimension, f.day, f.entity_id, f.sales_count, f.total_price
               from daily_sales_stats_folded as f
               where f.dimension in ('agent', 'product', 'customer')
                 and f.day between coalesce(from_day, '-infinity') and coalesce(to_day, 'infinity')) as f
      on f.dimension = e.dimension and f.day = e.day and f.entity_id = e.entity_id
    where e.sales_count is distinct from f.sales_count or e.total_price is distinct from f.total_price;
    get diagnostics rebuilt = row_count;
    analyze rebuild_daily_changes;

    delete from daily_sales_stats_folded as f
      using rebuild_daily_changes as c
      where c.sales_count is null and f.dimension = c.dimension and f.day = c.day and f.entity_id = c.entity_id;
    update daily_sales_stats_folded as f set sales_count = c.sales_count, total_price = c.total_price
      from rebuild_daily_changes as c
      where c.stored and c.sales_count is not null and f.dimension = c.dimension and f.day = c.day and f.entity_id = c.entity_id;
    insert into daily_sales_stats_folded (dimension, day, entity_id, sales_count, total_price)
    select c.dimension, c.day, c.entity_id, c.sales_count, c.total_price
    from rebuild_daily_changes as c
    where not c.stored
    order by c.dimension, c.day, c.entity_id;
    drop table rebuild_daily_changes;
  end if;

  -- The month, year and window rows (sql/065); absent while migrations are undone below 1764059000000.
  if to_regprocedure('rebuild_period_sales_stats(date, date)') is not null then
    perform rebuild_period_sales_stats(from_day, to_day);
  end if;
  return rebuilt;
end;
$$;
comment on function rebuild_daily_sales_stats(date, date) is
  'Recomputes daily_sales_stats for the days from_day..to_day (null: unbounded) from sales; returns the number of daily rollup rows written (a full rebuild: all of them; a ranged one: those that differed, 0 when the days were exact). Blocks writers of sales while it runs.';
