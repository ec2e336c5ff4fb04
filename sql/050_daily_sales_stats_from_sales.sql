-- The rollups computed afresh from sales, for the sales created in
-- [since, until). The reference that verify compares against and that rebuild
-- writes. Plain SQL, so the planner inlines it and the created_at bounds reach
-- the sales_created_at_idx index.
create or replace function daily_sales_stats_from_sales(since timestamptz, until timestamptz)
returns table (dimension text, day date, entity_id bigint, sales_count bigint, total_price numeric)
language sql stable parallel safe as $$
  select case when grouping(sales_agent_id) = 0 then 'agent'
              when grouping(product_id) = 0 then 'product'
              else 'customer' end,
         day, coalesce(sales_agent_id, product_id, customer_id), count(*), sum(price)
  from (select sale_day(created_at, (select stats_time_zone())) as day,
               sales_agent_id, product_id, customer_id, price
        from sales
        where created_at >= since and created_at < until) as s
  group by grouping sets ((day, sales_agent_id), (day, product_id), (day, customer_id))
$$;
comment on function daily_sales_stats_from_sales(timestamptz, timestamptz) is
  'Per (dimension, day, entity): count and total of the sales created in [since, until), by a fresh GROUP BY.';
