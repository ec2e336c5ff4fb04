-- The stats pages' two hottest reads, as PL/pgSQL functions so that their
-- plans are cached on the server connection, whoever holds it.
--
-- Why: planning these queries (CTEs, a union, an anti-join) costs more than
-- running them (1.7 ms against 0.4 ms per call for a page's rows). Directly
-- connected, the app keeps them as named prepared statements (src/db/kysely.ts).
-- Behind a transaction pooler it cannot (PgBouncer 1.18 hands each transaction
-- any server connection), and every page paid the planning again: a fifth of
-- its throughput. PL/pgSQL prepares the queries of a function once per server
-- connection (and, after five calls, keeps a generic plan), and a server
-- connection outlives every client transaction the pooler puts on it. What is
-- left for the client's own statement is the call and a join on the names.
-- pgbench at 1M sales, 4 clients, a 30-day agents page: 0.99 ms a call
-- unprepared, against 1.33 ms for the query itself unprepared and 0.59 ms
-- prepared (the call prepared: 0.64 ms). (Joining the names
-- inside, over all three dimension tables, gets a generic plan that scans
-- the products: worse.)
--
-- The bodies are the queries that src/stats/stats.repository.ts documents
-- (rowsByDay, rangeTotals); the two orders are two static queries because
-- an ORDER BY cannot take its direction from a parameter and keep using the
-- index.

-- One page of (day, entity) rows of a dimension ordered by day, then entity
-- id: reads offset + limit + (pending keys) folded rows in index order, since
-- a pending delta can add a key anywhere or empty one, and the page is among
-- those candidates.
create or replace function stats_rows_by_day(
  p_dimension text, p_from date, p_to date, p_descending boolean, p_limit bigint, p_offset bigint)
returns table (day date, entity_id bigint, sales_count bigint, total_price numeric)
language plpgsql stable
-- A page's worth. The caller joins the names to these rows: at PL/pgSQL's
-- default guess of 1000 rows that join hashed the whole dimension table, a
-- sequential scan of every customer on every page (131 of 151 ms for 51 rows
-- with 100,000 customers; bench:scale measured the customers page at 283 ms
-- p50 at both 1M and 10M sales). At 50 it is an index probe per row shown.
rows 50
set search_path = public, pg_temp
as $$
#variable_conflict use_column
begin
  if p_descending then
    return query
      with pending as materialized (
        select day, entity_id, sum(sales_count) as sales_count, sum(total_price) as total_price
        from daily_sales_stats_pending
        where dimension = p_dimension and day between p_from and p_to
        group by day, entity_id
      ), candidates as (
        (select day, entity_id, sales_count, total_price from daily_sales_stats_folded
         where dimension = p_dimension and day between p_from and p_to
         order by day desc, entity_id desc
         limit p_offset + p_limit + (select count(*) from pending))
        union all
        select day, entity_id, sales_count, total_price from pending
      )
      select day, entity_id, sum(sales_count)::bigint, sum(total_price)
      from candidates
      group by day, entity_id
      having sum(sales_count) <> 0
      order by day desc, entity_id desc
      limit p_limit offset p_offset;
  else
    return query
      with pending as materialized (
        select day, entity_id, sum(sales_count) as sales_count, sum(total_price) as total_price
        from daily_sales_stats_pending
        where dimension = p_dimension and day between p_from and p_to
        group by day, entity_id
      ), candidates as (
        (select day, entity_id, sales_count, total_price from daily_sales_stats_folded
         where dimension = p_dimension and day between p_from and p_to
         order by day asc, entity_id asc
         limit p_offset + p_limit + (select count(*) from pending))
        union all
        select day, entity_id, sales_count, total_price from pending
      )
      select day, entity_id, sum(sales_count)::bigint, sum(total_price)
      from candidates
      group by day, entity_id
      having sum(sales_count) <> 0
      order by day asc, entity_id asc
      limit p_limit offset p_offset;
  end if;
end;
$$;
comment on function stats_rows_by_day(text, date, date, boolean, bigint, bigint) is
  'One page of daily rollup rows of a dimension in day order, folded plus pending: the stats table page without a search.';

-- Count and total of a range over all entities. Every dimension has the same
-- totals (each sale has one agent, product and customer), so they are read
-- from the agents' rows; a sum over keys of (folded + pending) is the sum of
-- the folded rows plus the sum of the deltas.
create or replace function stats_range_totals(p_from date, p_to date)
returns table (sales_count text, total_price text)
language plpgsql stable
set search_path = public, pg_temp
as $$
#variable_conflict use_column
begin
  return query
    with parts as (
      select sum(sales_count) as sales_count, sum(total_price) as total_price
      from daily_sales_stats_folded
      where dimension = 'agent' and day between p_from and p_to
      union all
      select sum(sales_count), sum(total_price)
      from daily_sales_stats_pending
      where dimension = 'agent' and day between p_from and p_to
    )
    select coalesce(sum(sales_count), 0)::text, coalesce(sum(total_price), 0)::text
    from parts;
end;
$$;
comment on function stats_range_totals(date, date) is
  'Count and total price of all sales of the days from p_from to p_to, from the rollups.';
