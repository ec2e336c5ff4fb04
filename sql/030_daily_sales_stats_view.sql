-- The rollups as readers see them: folded rows plus the deltas not yet folded.
-- Exact at every commit, since a delta becomes visible with the sale that made
-- it and the fold moves deltas in one transaction. The pending table is small
-- (the fold runs every second), so a read costs O(rows it returns).
-- Predicates on day, dimension and entity_id are pushed below the GROUP BY into
-- both branches, where the folded table's indexes serve them.
create or replace view daily_sales_stats as
select day, dimension, entity_id,
       sum(sales_count)::bigint as sales_count,
       sum(total_price) as total_price
from (
  select day, dimension, entity_id, sales_count, total_price from daily_sales_stats_folded
  union all
  select day, dimension, entity_id, sales_count, total_price from daily_sales_stats_pending
) as folded_and_pending
group by day, dimension, entity_id
having sum(sales_count) <> 0;

comment on view daily_sales_stats is
  'Per day and per sales agent, product or customer: the number of sales and their total price. Always equal to a GROUP BY over sales.';
