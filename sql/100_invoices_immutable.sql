-- An issued invoice or credit note is a legal document: once its row exists,
-- nothing may change or remove it, whoever asks (the app, psql, another
-- service). Corrections are made by issuing a credit note. The rendered PDF
-- lives in invoice_documents, which may be re-rendered.
--
-- Row triggers do not fire on TRUNCATE: `truncate customers cascade` (a test
-- and development reset) still empties the tables. Refusing TRUNCATE too would
-- make that reset impossible without dropping the trigger first.
create or replace function tg_invoices__refuse_change() returns trigger
language plpgsql volatile
set search_path = public, pg_temp
as $$
begin
  raise exception 'invoice % has been issued and cannot be %', old.number,
      case tg_op when 'DELETE' then 'deleted' else 'changed' end
    using errcode = 'TT010',
          hint = 'issue a credit note instead';
end;
$$;
comment on function tg_invoices__refuse_change() is
  'BEFORE UPDATE OR DELETE row trigger on invoices: issued invoices are immutable (SQLSTATE TT010).';

create or replace trigger _100_refuse_change before update or delete on invoices
  for each row execute function tg_invoices__refuse_change();
