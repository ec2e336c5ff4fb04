-- The stats pages' change marker, for ETags: a value that changes whenever
-- what a reader of daily_sales_stats (or of the entity names) would see
-- changes, read in one tiny query, and maintained without ever making two
-- writers of sales wait for each other.
--
-- Why not a counter bumped by the writers' trigger: one row updated by every
-- statement would serialize all writers on that row, which is exactly what the
-- pending table exists to avoid. Why not a sequence: nextval() is not
-- transactional, so a reader could see the new value before the writer's rows
-- commit, and cache the old page under the new marker forever.
--
-- Instead: writers only append (to daily_sales_stats_pending, or a rename to
-- stats_name_changes), and every operation that removes or rewrites rollup rows
-- (fold, rebuild, TRUNCATE) bumps daily_sales_stats_generation in its own
-- transaction. Those operations already run one at a time (the maintenance
-- advisory lock, or TRUNCATE's exclusive lock), so the generation row has a
-- single writer. Within one generation both append-only tables only grow, and
-- a later snapshot sees a superset of an earlier one, so the triple
-- (generation, pending rows, name changes) differs between any two snapshots
-- whose pages differ. Readers must read the marker before (or in the same
-- snapshot as) the data: then a page is never newer-marked than its data.

create or replace function tg_daily_sales_stats__bump_generation() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
begin
  -- A fold with nothing to fold runs its statements on no rows: no bump, so
  -- an idle service keeps its ETags.
  -- Nested, not one condition: a TRUNCATE trigger has no transition table,
  -- and PL/pgSQL plans a whole condition at once.
  if tg_op <> 'TRUNCATE' then
    if not exists (select from changed) then
      return null;
    end if;
  end if;
  update daily_sales_stats_generation set generation = generation + 1;
  -- Renames committed so far are part of the new generation's pages.
  delete from stats_name_changes;
  return null;
end;
$$;
comment on function tg_daily_sales_stats__bump_generation() is
  'AFTER statement trigger on the rollup tables: bumps the change marker''s generation when rows leave the pending table or the folded rows change.';

create or replace function tg__record_name_change() returns trigger
language plpgsql volatile security definer
set search_path = public, pg_temp
as $$
begin
  insert into stats_name_changes default values;
  return null;
end;
$$;
comment on function tg__record_name_change() is
  'AFTER UPDATE OF name statement trigger on the dimension tables: appends a row so the stats pages'' change marker moves.';

create or replace function stats_change_marker() returns text
language sql stable parallel safe
set search_path = public, pg_temp
as $$
  select g.generation || '-' || (select count(*) from daily_sales_stats_pending)
                      || '-' || (select count(*) from stats_name_changes)
  from daily_sales_stats_generation as g
$$;
comment on function stats_change_marker() is
  'Changes whenever daily_sales_stats or an entity name as seen by the caller''s snapshot changes; cheap (the counted tables stay small).';

create or replace trigger _900_bump_generation_on_delete after delete on daily_sales_stats_pending
  referencing old table as changed
  for each statement execute function tg_daily_sales_stats__bump_generation();
create or replace trigger _900_bump_generation_on_truncate after truncate on daily_sales_stats_pending
  for each statement execute function tg_daily_sales_stats__bump_generation();
create or replace trigger _900_bump_generation_on_insert after insert on daily_sales_stats_folded
  referencing new table as changed
  for each statement execute function tg_daily_sales_stats__bump_generation();
create or replace trigger _900_bump_generation_on_update after update on daily_sales_stats_folded
  referencing new table as changed
  for each statement execute function tg_daily_sales_stats__bump_generation();
create or replace trigger _900_bump_generation_on_delete after delete on daily_sales_stats_folded
  referencing old table as changed
  for each statement execute function tg_daily_sales_stats__bump_generation();
create or replace trigger _900_bump_generation_on_truncate after truncate on daily_sales_stats_folded
  for each statement execute function tg_daily_sales_stats__bump_generation();

create or replace trigger _900_record_name_change after update of name on customers
  for each statement execute function tg__record_name_change();
create or replace trigger _900_record_name_change after update of name on products
  for each statement execute function tg__record_name_change();
create or replace trigger _900_record_name_change after update of name on sales_agents
  for each statement execute function tg__record_name_change();
