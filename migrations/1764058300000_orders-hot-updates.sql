-- Up Migration

-- Updates of an order that change none of its indexed columns become HOT
-- updates: the new row version goes on the same page and no index gets an
-- entry for it. Every update sets updated_at (the updated_at trigger), and
-- updated_at was the key of the index of orders awaiting payment: so every
-- update of an order, a fulfilment step as much as a payment, wrote an entry
-- into each of the table's seven indexes, and left as many dead ones for
-- vacuum. Indexed on expires_at instead (what the expiry job orders by; the
-- reconcile job filters the same small set on updated_at), the fulfilment
-- steps (submitted, in production, shipped, delivered: several an order)
-- write no index entries. Payment steps still do: payment_state is the
-- index's predicate. Fillfactor 90 leaves each page room for those updates.
drop index orders_awaiting_payment_idx;
create index orders_awaiting_payment_idx on orders (expires_at)
  where payment_state in ('pending_payment', 'payment_processing', 'payment_failed');
alter table orders set (fillfactor = 90);

-- Down Migration

drop index orders_awaiting_payment_idx;
create index orders_awaiting_payment_idx on orders (updated_at)
  where payment_state in ('pending_payment', 'payment_processing', 'payment_failed');
alter table orders reset (fillfactor);
