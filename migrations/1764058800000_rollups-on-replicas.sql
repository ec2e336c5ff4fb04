-- Up Migration

-- Measured by bench:replica-conflicts (docs/replicas.md): a vacuum that
-- truncates a table's empty tail replays on a streaming replica as an ACCESS
-- EXCLUSIVE lock, which cancels the replica's reads of that table after
-- max_standby_streaming_delay, hot_standby_feedback or not. The pending
-- table has been spared it since 1764057800000; the folded table too, now
-- that the stats pages read it on replicas: its tail empties when a rebuild
-- or the fold deletes keys, and the freed pages are reused by the next
-- inserts anyway.
alter table daily_sales_stats_folded set (vacuum_truncate = false);

-- Down Migration

alter table daily_sales_stats_folded reset (vacuum_truncate);
