-- Archiving: the month partitions of sales before before_month are detached
-- from sales and kept in the schema sales_archive (or dropped, with
-- drop_partitions), and each archived month is recorded in
-- sales_archived_months with what it held.
--
-- Semantics: the stats of an archived month are kept. History outlives the
-- raw rows: DETACH and DROP fire no DML trigger, so the rollups keep the
-- month's days as they were, and from then on those days are closed:
-- * a sale dated in an archived month is refused (TT020, sql/045);
-- * verify compares only the live days, rebuild never recounts (and so never
--   wipes) an archived day: it refuses a range that names one (TT021);
-- * the time zone can no longer change (TT022, sql/080);
-- * TRUNCATE of sales keeps them (sql/040).
-- The current month and later cannot be archived (TT023): the last month may
-- still receive late writes, so at least one full month stays live.
--
-- Rows of archived months waiting in the default partition are first moved to
-- partitions of their own (create_sales_partitions, rollups unchanged), which
-- are then archived like the others. Takes an ACCESS EXCLUSIVE lock on sales
-- (DETACH PARTITION) for the time it runs: writers wait, readers of the stats
-- pages do not (they read the rollups).
create or replace function archive_sales_before(before_month date, drop_partitions boolean default false)
returns table (month date, sales_count bigint, total_price numeric, archived_table text)
language plpgsql volatile security definer
set search_path = public, pg_temp
-- The partition bounds are read back from their text (pg_get_expr): ISO, whatever the caller's DateStyle.
set datestyle = 'ISO, YMD'
as $$
declare
  cutoff_month date := date_trunc('month', before_month)::date;
  this_month date := date_trunc('month', now() at time zone 'UTC')::date;
  cutoff timestamptz;
  oldest_waiting date;
  part record;
  trigger_name text;
begin
  if before_month is null or cutoff_month >= this_month then
    raise exception using errcode = 'TT023',
      message = format('cannot archive the months before %s: only months before the current one (%s) can be archived',
                       coalesce(to_char(cutoff_month, 'YYYY-MM'), 'null'), to_char(this_month, 'YYYY-MM'));
  end if;
  cutoff := cutoff_month::timestamp at time zone 'UTC';

  perform pg_advisory_xact_lock(1952541803, 3);  -- ('tank', 3): partition maintenance
  lock table sales in access exclusive mode;

  select date_trunc('month', min(d.created_at) at time zone 'UTC')::date into oldest_waiting
  from sales_default as d where d.created_at < cutoff;
  if oldest_waiting is not null then
    perform create_sales_partitions(oldest_waiting, (cutoff_month - interval '1 month')::date);
  end if;

  for part in
    select c.oid::regclass as relation, c.relname, b.lower_bound, b.upper_bound
    from pg_inherits as i
    join pg_class as c on c.oid = i.inhrelid
    cross join lateral (
      select m[1]::timestamptz as lower_bound, m[2]::timestamptz as upper_bound
      from regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$FROM \('([^']+)'\) TO \('([^']+)'\)$re$) as m
    ) as b
    where i.inhparent = 'sales'::regclass and b.upper_bound <= cutoff
    order by b.lower_bound
  loop
    month := (part.lower_bound at time zone 'UTC')::date;
    execute format('select count(*), coalesce(sum(price), 0) from %s', part.relation) into sales_count, total_price;
    execute format('alter table sales detach partition %s', part.relation);
    -- Detached, it is a table of its own: its rollup triggers must not turn
    -- writes into it into deltas of closed days.
    for trigger_name in select t.tgname from pg_trigger as t where t.tgrelid = part.relation and not t.tgisinternal loop
      execute format('drop trigger %I on %s', trigger_name, part.relation);
    end loop;
    -- Before PG 17 its id default draws from the parent's sequence
    -- (prepare_sales_partition, sql/045): an archived table gets no new ids,
    -- and must not tie the sequence to it.
    if exists (select from pg_attribute as a
               where a.attrelid = part.relation and a.attname = 'id' and a.attidentity = '' and a.atthasdef) then
      execute format('alter table %s alter column id drop default', part.relation);
    end if;
    if drop_partitions then
      execute format('drop table %s', part.relation);
      archived_table := null;
    else
      execute format('alter table %s set schema sales_archive', part.relation);
      archived_table := format('sales_archive.%I', part.relname);
    end if;
    insert into sales_archived_months as a (month, dropped, sales_count, total_price, archived_table)
    values (month, drop_partitions, sales_count, total_price, archived_table);
    return next;
  end loop;
end;
$$;
comment on function archive_sales_before(date, boolean) is
  'Detaches (or drops) the month partitions of sales before before_month, keeping their stats; records each in sales_archived_months and returns them.';
