-- Up Migration

-- A second payment for an order already paid (two checkout sessions of one
-- order both paid: a decline, a retry, and the first session paid after all)
-- is money the order does not keep. It is refunded on its own, with a credit
-- note of its own, and the order stays paid: duplicate marks such a payment,
-- so the order's own refund (completeRefund, order__refund without a
-- payment) leaves it alone and its refund never marks the order refunded.
alter table payments add column duplicate boolean not null default false;

-- The payment a credit note refunds when it is not the order's refund (a
-- second payment): an order may then have two credit notes, one per refunded
-- second payment and one for the order itself. Each stays unique, so a job
-- and a webhook that both learn of a refund issue one credit note between them.
alter table invoices add column payment_id bigint constraint invoices_payment_id_fkey references payments (id);
alter table invoices add constraint invoices_only_credit_notes_refund_payments check (payment_id is null or kind = 'credit_note');
drop index invoices_one_credit_note_per_order;
create unique index invoices_one_credit_note_per_order on invoices (order_id) where kind = 'credit_note' and payment_id is null;
create unique index invoices_one_credit_note_per_payment on invoices (payment_id) where payment_id is not null;

-- Down Migration

-- Fails while an order has a credit note for a second payment beside its own
-- (issued invoices cannot be deleted): undoing this needs them kept elsewhere.
drop index invoices_one_credit_note_per_payment;
drop index invoices_one_credit_note_per_order;
create unique index invoices_one_credit_note_per_order on invoices (order_id) where kind = 'credit_note';
alter table invoices drop constraint invoices_only_credit_notes_refund_payments;
alter table invoices drop column payment_id;
alter table payments drop column duplicate;
