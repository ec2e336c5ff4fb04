-- The sales agent of orders that came without a referral code: the web shop,
-- an ordinary row of sales_agents found by name (DEFAULT_SALES_AGENT), created
-- on first use. Created lazily rather than by the migration: a migrated but
-- empty database stays empty (the seeder and `make start` rely on that).
--
-- The advisory lock is taken only when the row is missing, so two first
-- checkouts do not create two agents, and later checkouts never wait.
create or replace function order_default_sales_agent(agent_name text) returns bigint
language plpgsql volatile
set search_path = public, pg_temp
as $$
declare
  agent_id bigint;
begin
  select id into agent_id from sales_agents where name = agent_name order by id limit 1;
  if agent_id is null then
    perform pg_advisory_xact_lock(1952541803, 100);
    -- A new statement sees what the previous lock holder committed.
    select id into agent_id from sales_agents where name = agent_name order by id limit 1;
    if agent_id is null then
      insert into sales_agents (name) values (agent_name) returning id into agent_id;
    end if;
  end if;
  return agent_id;
end;
$$;
comment on function order_default_sales_agent(text) is
  'The id of the sales agent named agent_name (the web shop), created if missing.';
