-- The next number of a series (INV-2026, CN-2026), gapless and unique.
--
-- Why a counter row and not a sequence: nextval() is not transactional, so a
-- payment that rolls back would leave a hole in the series. The upsert locks
-- the series' row until the calling transaction ends: concurrent issuers queue
-- for it, and a rollback gives the number back to the next one.
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

-- Invoices are inserted without a number; it is given at commit.
--
-- Why at commit: the counter row stays locked from the number's allocation to
-- the end of the transaction. Allocated at insert, the lock spanned the rest
-- of the issuing transaction, client round trips included, and concurrent
-- payments queued behind it. As a deferred constraint trigger the allocation
-- runs inside COMMIT, after every statement of the transaction: the lock is
-- held for this function and the commit's WAL flush, nothing else.
-- Invoices of one transaction are numbered in the order they were inserted.
create or replace function tg_invoices__number_at_commit() returns trigger
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
  next_sequence_number bigint;
  next_number text;
begin
  next_sequence_number := allocate_invoice_number(new.series);
  next_number := new.series || '-' || lpad(next_sequence_number::text, greatest(6, length(next_sequence_number::text)), '0');
  -- The one update an invoice ever gets (tg_invoices__refuse_change lets it through).
  update invoices as i
     set sequence_number = next_sequence_number,
         number = next_number,
         snapshot = i.snapshot || jsonb_build_object('number', next_number)
   where i.id = new.id;
  return null;
end;
$$;
comment on function tg_invoices__number_at_commit() is
  'Deferred AFTER INSERT constraint trigger on invoices: gives the row the next number of its series at commit.';

-- A number comes from the series, never from the inserting statement: an
-- invoice inserted with one would leave a hole or a repeat in the series.
create or replace function tg_invoices__refuse_given_number() returns trigger
language plpgsql volatile
set search_path = public, pg_temp
as $$
begin
  if new.number is not null or new.sequence_number is not null then
    raise exception 'invoice numbers are given by the database at commit, not by the inserting statement'
      using errcode = 'TT011',
            hint = 'insert the invoice with number and sequence_number null';
  end if;
  return new;
end;
$$;
comment on function tg_invoices__refuse_given_number() is
  'BEFORE INSERT row trigger on invoices: refuses a number chosen by the caller (SQLSTATE TT011).';

create or replace trigger _110_refuse_given_number before insert on invoices
  for each row execute function tg_invoices__refuse_given_number();

drop trigger if exists _110_number_at_commit on invoices;
create constraint trigger _110_number_at_commit after insert on invoices
  deferrable initially deferred
  for each row execute function tg_invoices__number_at_commit();
