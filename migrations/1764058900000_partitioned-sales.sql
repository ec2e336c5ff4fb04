-- Up Migration

-- sales becomes a table partitioned by month of created_at (UTC months), so
-- that an operator can vacuum, re-index, archive or drop one month instead of
-- one heap of hundreds of millions of rows (docs/scale.md). created_at is in
-- the partition key, so the primary key becomes (id, created_at); ids still
-- come from one identity sequence, continued from the old one. Nothing
-- references sales, so no foreign key has to follow the new key.
--
-- The rollups do not move: the rows are copied into a new table that has no
-- triggers yet (the rollup triggers of sql/ stay on the old table, which is
-- then dropped, and DROP fires no trigger), so the copy adds no delta and the
-- rollups are exactly what they were. sql/ is re-applied right after the
-- migrations, in the same transaction, and puts the triggers on the new
-- table and on each partition (sql/040, sql/045).
--
-- Cost: one pass over the sales (INSERT ... SELECT, routed to the month
-- partitions), then the keys, the foreign keys and the indexes built once
-- per partition, in bulk, rather than maintained row by row during the copy.
-- Writers wait for the whole migration (ACCESS EXCLUSIVE on sales);
-- docs/scale.md gives the measured duration.

lock table sales in access exclusive mode;

-- The old table steps aside; its key and index names are freed for the new one.
alter table sales rename to sales_unpartitioned;
alter sequence sales_id_seq rename to sales_unpartitioned_id_seq;
alter table sales_unpartitioned drop constraint sales_pkey;
drop index sales_customer_id_idx, sales_product_id_idx, sales_sales_agent_id_idx;
alter index sales_created_at_idx rename to sales_unpartitioned_created_at_idx;

create table sales (
  id bigint generated always as identity,
  customer_id bigint not null,
  product_id bigint not null,
  sales_agent_id bigint not null,
  price numeric(12, 2) not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
) partition by range (created_at);

-- The next id is the one the old sequence would have given (not max(id) + 1:
-- ids given to rolled-back or deleted sales are never reused).
select setval(pg_get_serial_sequence('sales', 'id'), last_value, is_called) from sales_unpartitioned_id_seq;

-- A row of a month without a partition (a back-dated import, a clock far
-- ahead) lands here rather than being refused; ensure_sales_partitions()
-- moves such rows out when their month's partition is created (sql/045).
create table sales_default partition of sales default;

-- One partition for every month from the first sale to the last (empty
-- months too: two index probes instead of a pass over the table).
do $$
declare
  first_month date;
  last_month date;
  m date;
begin
  select date_trunc('month', min(created_at) at time zone 'UTC')::date,
         date_trunc('month', max(created_at) at time zone 'UTC')::date
    into first_month, last_month
  from sales_unpartitioned;
  for m in select generate_series(first_month, last_month, interval '1 month')::date loop
    execute format('create table %I partition of sales for values from (%L) to (%L)',
      'sales_' || to_char(m, 'YYYY_MM'),
      m::timestamp at time zone 'UTC', (m + interval '1 month')::timestamp at time zone 'UTC');
  end loop;
end;
$$;

insert into sales (id, customer_id, product_id, sales_agent_id, price, created_at, updated_at)
overriding system value
select id, customer_id, product_id, sales_agent_id, price, created_at, updated_at
from sales_unpartitioned;

-- The same named constraints as before (the application's messages name
-- them: src/db/database-errors.ts); on the partitions they keep these names.
alter table sales add constraint sales_pkey primary key (id, created_at);
alter table sales add constraint sales_customer_id_fkey foreign key (customer_id) references customers (id);
alter table sales add constraint sales_product_id_fkey foreign key (product_id) references products (id);
alter table sales add constraint sales_sales_agent_id_fkey foreign key (sales_agent_id) references sales_agents (id);
alter table sales add constraint sales_price_not_negative check (price >= 0);
-- Partitioned indexes: one index per partition, built now in bulk and by
-- Postgres on every partition created later.
create index sales_customer_id_idx on sales (customer_id);
create index sales_product_id_idx on sales (product_id);
create index sales_sales_agent_id_idx on sales (sales_agent_id);
create index sales_created_at_idx on sales (created_at);

drop table sales_unpartitioned;

-- Archiving (sql/075): detached month partitions are kept in this schema, and
-- every archived month is recorded, with what it held. The stats of an
-- archived month are kept: history outlives the raw rows.
create schema sales_archive;
create table sales_archived_months (
  month date primary key constraint sales_archived_months_first_of_month check (extract(day from month) = 1),
  archived_at timestamptz not null default now(),
  dropped boolean not null,
  sales_count bigint not null,
  total_price numeric not null,
  -- sales_archive.sales_YYYY_MM, or null once dropped.
  archived_table text
);

-- The triggers of sql/ went with the old table: have them applied again.
delete from replaceable_sql_state;

-- Down Migration

-- Back to one plain table, with the archived (detached, not dropped) months'
-- rows put back. A month dropped by archive_sales_before(..., true) has no rows
-- left to put back while its stats remain, so the migration refuses.
do $$
begin
  if exists (select from sales_archived_months where dropped) then
    raise exception 'cannot undo the partitioning of sales: archived months were dropped (see sales_archived_months), their sales cannot be put back';
  end if;
end;
$$;

lock table sales in access exclusive mode;

create table sales_plain (
  id bigint generated always as identity,
  customer_id bigint not null,
  product_id bigint not null,
  sales_agent_id bigint not null,
  price numeric(12, 2) not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
select setval('sales_plain_id_seq', last_value, is_called) from sales_id_seq;
insert into sales_plain (id, customer_id, product_id, sales_agent_id, price, created_at, updated_at)
overriding system value
select id, customer_id, product_id, sales_agent_id, price, created_at, updated_at from sales;

do $$
declare
  archived text;
begin
  for archived in select archived_table from sales_archived_months where archived_table is not null order by month loop
    execute format('insert into sales_plain (id, customer_id, product_id, sales_agent_id, price, created_at, updated_at)
                    overriding system value
                    select id, customer_id, product_id, sales_agent_id, price, created_at, updated_at from %s', archived);
  end loop;
end;
$$;

drop table sales;
drop schema sales_archive cascade;
drop table sales_archived_months;
alter table sales_plain rename to sales;
alter sequence sales_plain_id_seq rename to sales_id_seq;
-- PG 18 names NOT NULL constraints after the table they were made on.
do $$
declare
  c record;
begin
  for c in select conname from pg_constraint where conrelid = 'sales'::regclass and contype = 'n' and conname like 'sales\_plain\_%' loop
    execute format('alter table sales rename constraint %I to %I', c.conname, 'sales_' || substr(c.conname, length('sales_plain_') + 1));
  end loop;
end;
$$;

alter table sales add constraint sales_pkey primary key (id);
alter table sales add constraint sales_customer_id_fkey foreign key (customer_id) references customers (id);
alter table sales add constraint sales_product_id_fkey foreign key (product_id) references products (id);
alter table sales add constraint sales_sales_agent_id_fkey foreign key (sales_agent_id) references sales_agents (id);
alter table sales add constraint sales_price_not_negative check (price >= 0);
create index sales_customer_id_idx on sales (customer_id);
create index sales_product_id_idx on sales (product_id);
create index sales_sales_agent_id_idx on sales (sales_agent_id);
create index sales_created_at_idx on sales (created_at);

-- The replaceable objects of sql/ that exist only for the partitioned table.
drop function if exists archive_sales_before(date, boolean);
drop function if exists ensure_sales_partitions(integer);
drop function if exists create_sales_partitions(date, date);
drop function if exists prepare_sales_partition(regclass);
drop function if exists tg_sales__refuse_archived_month();
drop function if exists tg_sales__mark_truncate();
drop function if exists tg_sales_partition__subtract_on_truncate();
drop function if exists verify_daily_sales_stats(date, date);
drop function if exists sales_first_live_day();
drop function if exists sales_archive_cutoff();
