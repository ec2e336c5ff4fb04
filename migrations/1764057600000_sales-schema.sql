-- Up Migration

-- The four tables of the sales domain. Every rule a row must obey lives here as
-- a named constraint, so that whatever writes rows (the app, psql, COPY, another
-- service) is refused with a message that names the broken rule.

create table customers (
  id bigint generated always as identity primary key,
  name text not null constraint customers_name_not_blank check (btrim(name) <> ''),
  email text not null constraint customers_email_valid check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  telephone text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- E-mail addresses are unique whatever their case: Ann@x.org and ann@x.org are one person.
create unique index customers_email_unique on customers (lower(email));

create table products (
  id bigint generated always as identity primary key,
  name text not null constraint products_name_not_blank check (btrim(name) <> ''),
  price numeric(12, 2) not null constraint products_price_not_negative check (price >= 0)
);

create table sales_agents (
  id bigint generated always as identity primary key,
  name text not null constraint sales_agents_name_not_blank check (btrim(name) <> '')
);

create table sales (
  id bigint generated always as identity primary key,
  customer_id bigint not null constraint sales_customer_id_fkey references customers (id),
  product_id bigint not null constraint sales_product_id_fkey references products (id),
  sales_agent_id bigint not null constraint sales_sales_agent_id_fkey references sales_agents (id),
  price numeric(12, 2) not null constraint sales_price_not_negative check (price >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- One index per foreign key: deleting a parent row checks for children, and the
-- drill-down pages list one entity's sales. created_at serves range rebuilds.
create index sales_customer_id_idx on sales (customer_id);
create index sales_product_id_idx on sales (product_id);
create index sales_sales_agent_id_idx on sales (sales_agent_id);
create index sales_created_at_idx on sales (created_at);

-- Down Migration

drop table sales;
drop table sales_agents;
drop table products;
drop table customers;
drop function if exists tg__set_updated_at();
