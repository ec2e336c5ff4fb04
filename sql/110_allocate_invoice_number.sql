-- The next number of a series (INV-2026, CN-2026), gapless and unique.
--
-- Why a counter row and not a sequence: nextval() is not transactional, so a
-- payment that rolls back would leave a hole in the series. The upsert locks
-- the series' row until the calling transaction ends: concurrent issuers queue
-- for it, and a rollback gives the number back to the next one. The caller
-- holds that lock for the rest of its transaction, so issue invoices last.
create or replace function allocate_invoice_number(series_name text) returns bigint
language sql volatile
set search_path = public, pg_temp
as $$
  insert into invoice_counters as c (series, next_value) values (series_name, 2)
  on conflict (series) do update set next_value = c.next_value + 1
  returning c.next_value - 1
$$;
comment on function allocate_invoice_number(text) is
  'Takes the next number of an invoice series in the calling transaction (gapless: a rollback returns it).';
