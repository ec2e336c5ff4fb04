-- orders.updated_at is the database's to keep, like the other tables'.
create or replace trigger _100_set_updated_at before update on orders
  for each row execute function tg__set_updated_at();
create or replace trigger _100_set_updated_at before update on payments
  for each row execute function tg__set_updated_at();
