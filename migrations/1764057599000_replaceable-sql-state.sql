-- Up Migration

-- Which version of sql/ (the replaceable functions, triggers and views) this
-- database runs: a digest of the files, so start-up re-applies them only when
-- they changed.
create table replaceable_sql_state (
  singleton boolean primary key default true constraint replaceable_sql_state_single_row check (singleton),
  digest text not null,
  applied_at timestamptz not null default now()
);

-- Down Migration

drop table replaceable_sql_state;
