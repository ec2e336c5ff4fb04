-- An issued invoice or credit note is a legal document: once its row exists,
-- nothing may change or remove it, whoever asks (the app, psql, another
-- service). Corrections are made by issuing a credit note. The rendered PDF
-- lives in invoice_documents, which may be re-rendered.
--
-- The one exception is the number, given at commit by the deferred trigger in
-- sql/110_allocate_invoice_number.sql: an update from inside that trigger
-- (trigger depth above 1) to a row that has no number yet, which sets the
-- number and changes nothing else.
--
-- Row triggers do not fire on TRUNCATE: `truncate customers cascade` (a test
-- and development reset) still empties the tables. Refusing TRUNCATE too would
-- make that reset impossible without dropping the trigger first.
create or replace function tg_invoices__refuse_change() returns trigger
language plpgsql volatile
set search_path = public, pg_temp
as $$
begin
  if tg_op = 'UPDATE' and old.number is null and new.number is not null and pg_trigger_depth() > 1
     and to_jsonb(new) - array['sequence_number', 'number', 'snapshot'] = to_jsonb(old) - array['sequence_number', 'number', 'snapshot']
     and new.snapshot - 'number' = old.snapshot - 'number' then
    return new;
  end if;
  raise exception 'invoice % has been issued and cannot be %', coalesce(old.number, '(being issued)'),
      case tg_op when 'DELETE' then 'deleted' else 'changed' end
    using errcode = 'TT010',
          hint = 'issue a credit note instead';
end;
$$;
comment on function tg_invoices__refuse_change() is
  'BEFORE UPDATE OR DELETE row trigger on invoices: issued invoices are immutable (SQLSTATE TT010); only the number is set, once, at commit.';

create or replace trigger _100_refuse_change before update or delete on invoices
  for each row execute function tg_invoices__refuse_change();
