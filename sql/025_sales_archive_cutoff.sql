-- Where the archived history ends. Archiving (sql/075) detaches or drops the
-- month partitions before a month and keeps their stats: from then on the
-- rollups of those months are history that no raw row backs any more. Every
-- part of the engine that compares or recounts rollups from sales (verify,
-- rebuild, TRUNCATE, a change of time zone) asks these two functions where
-- that history ends. Both are null while nothing is archived.

create or replace function sales_archive_cutoff() returns timestamptz
language sql stable parallel safe
set search_path = public, pg_temp
as $$
  select (max(month) + interval '1 month')::timestamp at time zone 'UTC' from sales_archived_months
$$;
comment on function sales_archive_cutoff() is
  'The instant before which sales are archived (the end of the last archived UTC month), or null when nothing is archived.';

-- Partitions are UTC months while days are business days (stats_settings):
-- in another zone than UTC, the day that holds the cutoff has sales on both
-- sides of it. That day and the ones before it are history; the first live day
-- is the first whose every sale is still in a partition.
create or replace function sales_first_live_day() returns date
language sql stable parallel safe
set search_path = public, pg_temp
as $$
  select case when sale_day(c.cutoff, c.zone)::timestamp at time zone c.zone = c.cutoff
              then sale_day(c.cutoff, c.zone)
              else sale_day(c.cutoff, c.zone) + 1 end
  from (select sales_archive_cutoff() as cutoff, stats_time_zone() as zone) as c
$$;
comment on function sales_first_live_day() is
  'The first business day none of whose sales are archived, or null when nothing is archived: verify and rebuild start there.';
