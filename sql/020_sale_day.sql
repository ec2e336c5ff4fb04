-- The one definition of "the day of a sale", used by the triggers, the rebuild,
-- the verification and the tests alike.

create or replace function stats_time_zone() returns text
language sql stable parallel safe as $$
  select time_zone from stats_settings
$$;
comment on function stats_time_zone() is
  'The business time zone (an IANA name) that decides the calendar day of a sale.';

-- Two-argument form: immutable and inlinable, so bulk statements fetch the zone
-- once and pay only for the conversion per row.
create or replace function sale_day(ts timestamptz, tz text) returns date
language sql immutable strict parallel safe as $$
  select (ts at time zone tz)::date
$$;
comment on function sale_day(timestamptz, text) is
  'Calendar day of the instant ts in the given time zone.';

create or replace function sale_day(ts timestamptz) returns date
language sql stable strict parallel safe as $$
  select sale_day(ts, stats_time_zone())
$$;
comment on function sale_day(timestamptz) is
  'Calendar day of the instant ts in the business time zone (stats_settings.time_zone).';
