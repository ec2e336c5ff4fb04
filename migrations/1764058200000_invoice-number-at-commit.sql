-- Up Migration

-- Invoice numbers are taken at commit, not when the invoice row is inserted.
--
-- Why: the series' counter row is locked from the moment a number is taken
-- until the transaction ends. Taken at insert, that lock was held across the
-- rest of the payment transaction's round trips to a busy worker process, and
-- every concurrent payment queued behind it (bench:orders measured 15 ms of
-- lock wait per payment). A deferred constraint trigger
-- (sql/110_allocate_invoice_number.sql) now numbers the row inside COMMIT, so
-- the lock is held for the trigger and the commit record's flush only.
-- Numbers stay gapless (a rollback never reaches the trigger) and unique.
--
-- A row is numbered before anyone else can see it: sequence_number and number
-- are null only inside the issuing transaction.
alter table invoices alter column sequence_number drop not null;
alter table invoices alter column number drop not null;

-- Down Migration

-- The numbering triggers (sql/110_allocate_invoice_number.sql) stand on the
-- nullable columns: they go with them, and sql/ is applied again on the next up.
drop trigger if exists _110_number_at_commit on invoices;
drop trigger if exists _110_refuse_given_number on invoices;
drop function if exists tg_invoices__number_at_commit();
drop function if exists tg_invoices__refuse_given_number();
alter table invoices alter column number set not null;
alter table invoices alter column sequence_number set not null;
