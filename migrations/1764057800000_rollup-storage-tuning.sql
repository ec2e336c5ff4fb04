-- Up Migration

-- Found by bench:ingest. The fold updates the folded rows of busy keys (an
-- agent's day) every second: room on each page lets those updates be HOT
-- (no new index entries).
alter table daily_sales_stats_folded set (fillfactor = 85);
-- The fold loop vacuums the pending table often; truncating its empty tail
-- would take an exclusive lock that makes the writers of sales wait.
alter table daily_sales_stats_pending set (vacuum_truncate = false);

-- Down Migration

alter table daily_sales_stats_pending reset (vacuum_truncate);
alter table daily_sales_stats_folded reset (fillfactor);
