-- The month partitions of sales, created ahead of time. sales is partitioned
-- by RANGE (created_at), one partition per UTC month named sales_YYYY_MM, and a
-- DEFAULT partition (sales_default) where a row of a month without a partition
-- still lands (a back-dated import, a clock far ahead). The service creates the
-- current month and the next SALES_PARTITIONS_AHEAD at start and daily
-- (src/stats/partition-loop.ts); `npm run stats -- partitions` does it by hand;
-- the seeder creates the months it is about to fill.

-- What every partition needs beyond what Postgres copies from the parent
-- (columns, defaults, constraints, indexes, row triggers):
-- * the rollup statement triggers: a statement that names a partition fires
--   that partition's triggers and not the parent's (sql/040);
-- * an id default: before PG 17 a partition does not share the parent's
--   identity, so an insert naming the partition would get a null id. The
--   default draws from the parent's identity sequence: one sequence for all.
--   From PG 17 on the partition's id is the identity itself.
-- * on the default partition, the guard against rows of archived months.
create or replace function prepare_sales_partition(part regclass) returns void
language plpgsql volatile
set search_path = public, pg_temp
as $$
begin
  if exists (select from pg_attribute
             where attrelid = part and attname = 'id' and attidentity = '' and not atthasdef) then
    execute format('alter table %s alter column id set default nextval(%L::regclass)',
                   part, pg_get_serial_sequence('sales', 'id'));
  end if;
  execute format('create or replace trigger _500_record_stats_on_insert after insert on %s
                    referencing new table as new_sales
                    for each statement execute function tg_sales__record_stats()', part);
  execute format('create or replace trigger _500_record_stats_on_update after update on %s
                    referencing old table as old_sales new table as new_sales
                    for each statement execute function tg_sales__record_stats()', part);
  execute format('create or replace trigger _500_record_stats_on_delete after delete on %s
                    referencing old table as old_sales
                    for each statement execute function tg_sales__record_stats()', part);
  execute format('create or replace trigger _500_subtract_stats_on_truncate before truncate on %s
                    for each statement execute function tg_sales_partition__subtract_on_truncate()', part);
  if exists (select from pg_partitioned_table where partrelid = 'sales'::regclass and partdefid = part) then
    execute format('create or replace trigger _050_refuse_archived_month before insert or update on %s
                      for each row execute function tg_sales__refuse_archived_month()', part);
  end if;
end;
$$;
comment on function prepare_sales_partition(regclass) is
  'Gives a partition of sales its rollup triggers and (before PG 17) its id default; idempotent.';

-- Archived months have no partition any more, so a row for one would land in
-- the default partition and count in stats that are closed history. Refused,
-- with TT020. A row trigger on the default partition only: it fires for rows
-- routed there (and for an UPDATE moving a row there), which are rare, so the
-- month partitions that take the traffic pay nothing.
create or replace function tg_sales__refuse_archived_month() returns trigger
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
  cutoff timestamptz := sales_archive_cutoff();
begin
  if new.created_at < cutoff then
    raise exception using errcode = 'TT020',
      message = format('cannot write a sale of %s: the months before %s are archived (their stats are closed)',
                       to_char(new.created_at at time zone 'UTC', 'YYYY-MM-DD'), to_char(cutoff at time zone 'UTC', 'YYYY-MM')),
      hint = 'select * from sales_archived_months lists the archived months.';
  end if;
  return new;
end;
$$;
comment on function tg_sales__refuse_archived_month() is
  'BEFORE row trigger on sales_default: refuses (TT020) a sale dated in an archived month.';

-- Creates the month partitions from_month..to_month (inclusive) that are
-- missing, and returns their names. Idempotent, and safe when two processes
-- run it at once: an advisory lock makes the second wait, then find the
-- partitions there. A run that finds every partition in place takes no lock
-- on sales at all.
--
-- Postgres refuses to create a partition while the default partition holds
-- rows of its range. Those rows are moved first: deleted from the default
-- partition (its DELETE trigger subtracts them from the rollups) and inserted
-- into the new partition (its INSERT trigger adds them back): the rollups end
-- exactly where they were. Writers of sales wait meanwhile (SHARE ROW
-- EXCLUSIVE, taken before the default partition is touched, so the lock order
-- is the writers' own: parent, then partition).
create or replace function create_sales_partitions(from_month date, to_month date) returns setof text
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
  m date;
  part_name text;
  lower_bound timestamptz;
  upper_bound timestamptz;
  cutoff timestamptz;
  locked boolean := false;
begin
  if from_month is null or to_month is null or to_month < from_month then
    raise exception using errcode = '22023',
      message = format('cannot create sales partitions from %s to %s', from_month, to_month);
  end if;
  perform pg_advisory_xact_lock(1952541803, 3);  -- ('tank', 3): partition maintenance
  cutoff := sales_archive_cutoff();
  for m in select generate_series(date_trunc('month', from_month), date_trunc('month', to_month), interval '1 month')::date loop
    part_name := 'sales_' || to_char(m, 'YYYY_MM');
    lower_bound := m::timestamp at time zone 'UTC';
    upper_bound := (m + interval '1 month')::timestamp at time zone 'UTC';
    continue when to_regclass(part_name) is not null;
    continue when upper_bound <= cutoff; -- archived: its rows are history
    if not locked then
      lock table sales in share row exclusive mode;
      locked := true;
      -- A second caller waited for the advisory lock while the first created
      -- the partitions: taking a table lock reads the catalog changes that
      -- committed meanwhile, so look again.
      continue when to_regclass(part_name) is not null;
    end if;

    if to_regclass('pg_temp.sales_partition_move') is null then
      create temp table sales_partition_move (like sales) on commit drop;
    end if;
    truncate sales_partition_move;
    with moved as (
      delete from sales_default where created_at >= lower_bound and created_at < upper_bound returning *
    )
    insert into sales_partition_move select * from moved;

    execute format('create table %I partition of sales for values from (%L) to (%L)', part_name, lower_bound, upper_bound);
    perform prepare_sales_partition(part_name::regclass);
    execute format('insert into %I overriding system value select * from sales_partition_move', part_name);
    return next part_name;
  end loop;
end;
$$;
comment on function create_sales_partitions(date, date) is
  'Creates the missing month partitions of sales from from_month to to_month (moving their rows out of the default partition, rollups unchanged); returns the names created.';

create or replace function ensure_sales_partitions(months_ahead integer) returns setof text
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
declare
  this_month date := date_trunc('month', now() at time zone 'UTC')::date;
begin
  if months_ahead is null or months_ahead < 0 or months_ahead > 120 then
    raise exception using errcode = '22023',
      message = format('months ahead must be between 0 and 120, not %s', coalesce(months_ahead::text, 'null'));
  end if;
  return query select create_sales_partitions(this_month, (this_month + make_interval(months => months_ahead))::date);
end;
$$;
comment on function ensure_sales_partitions(integer) is
  'Creates the partitions of sales for the current UTC month and the next months_ahead months where missing; returns the names created.';

-- Every partition, whenever this file is applied: a change to the triggers
-- above reaches the partitions that already exist.
do $$
declare
  part regclass;
begin
  for part in select inhrelid::regclass from pg_inherits where inhparent = 'sales'::regclass order by 1 loop
    perform prepare_sales_partition(part);
  end loop;
end;
$$;
