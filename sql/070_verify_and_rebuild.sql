-- verify: the rows where the rollups and a fresh GROUP BY over sales differ,
-- for the days from_day..to_day (inclusive; null means unbounded). One
-- statement, so one snapshot: exact even while writers are busy. The
-- created_at bounds prune sales to the partitions of those days (a month's
-- verify reads one or two partitions).
--
-- Archived days (before sales_first_live_day(), sql/025) are not compared:
-- their raw rows are gone and their stats are history. In a business zone
-- other than UTC that includes the one day holding the archive cutoff.
create or replace function verify_daily_sales_stats(from_day date, to_day date)
returns table (day date, dimension text, entity_id bigint,
               expected_count bigint, expected_total numeric,
               actual_count bigint, actual_total numeric)
language sql stable security definer
set search_path = public, pg_temp
set work_mem = '256MB'
as $$
  with bounds as (
    select greatest(from_day, sales_first_live_day()) as first_day, to_day as last_day, stats_time_zone() as zone
  )
  select coalesce(e.day, a.day), coalesce(e.dimension, a.dimension), coalesce(e.entity_id, a.entity_id),
         e.sales_count, e.total_price, a.sales_count, a.total_price
  from daily_sales_stats_from_sales(
         (select coalesce(first_day::timestamp at time zone zone, '-infinity') from bounds),
         (select coalesce((last_day + 1)::timestamp at time zone zone, 'infinity') from bounds)) as e
  full join (select * from daily_sales_stats as s
             where s.day >= (select coalesce(first_day, '-infinity') from bounds)
               and s.day <= (select coalesce(last_day, 'infinity') from bounds)) as a
    on a.day = e.day and a.dimension = e.dimension and a.entity_id = e.entity_id
  where e.sales_count is distinct from a.sales_count
     or e.total_price is distinct from a.total_price
  union all select * from verify_period_sales_stats(from_day, to_day)  -- the period rows (sql/065); dimension reads "<dimension> <period>"
  order by 1, 2, 3
$$;
comment on function verify_daily_sales_stats(date, date) is
  'Rows where daily_sales_stats differs from a fresh GROUP BY over sales, for the days from_day..to_day (null: unbounded) that are not archived; none when the rollups are exact.';

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
-- ranged rebuild deletes and reinserts its days under MVCC instead.
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
  else
    delete from daily_sales_stats_pending
      where day between coalesce(from_day, '-infinity') and coalesce(to_day, 'infinity');
    delete from daily_sales_stats_folded
      where day between coalesce(from_day, '-infinity') and coalesce(to_day, 'infinity');
  end if;

  insert into daily_sales_stats_folded (dimension, day, entity_id, sales_count, total_price)
  select dimension, day, entity_id, sales_count, total_price
  from daily_sales_stats_from_sales(
         coalesce(from_day::timestamp at time zone zone, '-infinity'),
         coalesce((to_day + 1)::timestamp at time zone zone, 'infinity'))
  order by dimension, day, entity_id;
  get diagnostics rebuilt = row_count;

  if from_day is null and to_day is null then
    perform rebuild_daily_sales_stats_indexes_attach();
  end if;
  -- The month, year and window rows (sql/065); absent while migrations are undone below 1764059000000.
  if to_regprocedure('rebuild_period_sales_stats(date, date)') is not null then
    perform rebuild_period_sales_stats(from_day, to_day);
  end if;
  return rebuilt;
end;
$$;
comment on function rebuild_daily_sales_stats(date, date) is
  'Recomputes daily_sales_stats for the days from_day..to_day (null: unbounded) from sales; returns the number of rollup rows written. Blocks writers of sales while it runs.';
