-- Changing the business time zone moves sales across day boundaries, so the
-- rollups are rebuilt in the same transaction: no reader ever sees days of one
-- zone mixed with days of another. Refused once months are archived (TT022).
create or replace function set_stats_time_zone(new_zone text) returns text
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
begin
  -- Only IANA names: abbreviations and POSIX strings such as 'UTC+3' are
  -- accepted by AT TIME ZONE but mean surprising things (POSIX signs are
  -- inverted), so they are refused.
  if new_zone is null or not exists (select from pg_timezone_names where name = new_zone) then
    raise exception using errcode = 'TT001',
      message = format('unknown time zone %L: use an IANA name such as Europe/London or UTC', new_zone),
      hint = 'select name from pg_timezone_names lists the names this server knows.';
  end if;

  -- The rebuild recounts every day from sales, and archived months have no
  -- sales left: their days would be lost, or kept in the old zone's days.
  if exists (select from sales_archived_months) then
    raise exception using errcode = 'TT022',
      message = format('cannot change the time zone to %s: months before %s are archived, and their stats cannot be recounted in another zone',
                       new_zone, to_char(sales_archive_cutoff() at time zone 'UTC', 'YYYY-MM'));
  end if;

  lock table sales in share mode;
  update stats_settings set time_zone = new_zone;
  perform rebuild_daily_sales_stats(null, null);
  return new_zone;
end;
$$;
comment on function set_stats_time_zone(text) is
  'Sets the business time zone (an IANA name) and rebuilds the rollups in the same transaction.';
