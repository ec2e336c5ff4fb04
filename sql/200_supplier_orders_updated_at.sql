-- supplier_orders.updated_at is the database's to keep, like the other tables'.
create or replace trigger _100_set_updated_at before update on supplier_orders
  for each row execute function tg__set_updated_at();
