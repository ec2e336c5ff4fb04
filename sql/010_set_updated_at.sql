-- updated_at is the database's to keep: whoever updates a row, its updated_at moves.
create or replace function tg__set_updated_at() returns trigger
language plpgsql volatile as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
comment on function tg__set_updated_at() is
  'BEFORE UPDATE row trigger: stamps updated_at with the transaction time.';

create or replace trigger _100_set_updated_at before update on customers
  for each row execute function tg__set_updated_at();
create or replace trigger _100_set_updated_at before update on sales
  for each row execute function tg__set_updated_at();
