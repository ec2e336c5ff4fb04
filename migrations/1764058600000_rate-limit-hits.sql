-- Up Migration

-- Sign-in and order look-up attempts per client address and route, counted
-- here instead of in each web process's memory: behind a load balancer with N
-- web processes a client would otherwise get N times LOGIN_ATTEMPTS_PER_MINUTE
-- tries a minute. One row per key and fixed window (src/auth/rate-limit-store.ts);
-- rows whose window ended are deleted as new windows open.
create table rate_limit_hits (
  key text primary key constraint rate_limit_hits_key_not_blank check (btrim(key) <> ''),
  hits integer not null constraint rate_limit_hits_hits_positive check (hits > 0),
  window_ends_at timestamptz not null
);
create index rate_limit_hits_window_ends_at_idx on rate_limit_hits (window_ends_at);

-- Down Migration

drop table rate_limit_hits;
