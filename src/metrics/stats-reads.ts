import { Counter, Gauge } from 'prom-client';

/** Why a stats read went to the primary although replicas are configured. */
export const READ_FALLBACK_REASONS = ['lagging', 'unavailable', 'query_failed'] as const;
export type ReadFallbackReason = (typeof READ_FALLBACK_REASONS)[number];

/**
 * Where the stats pages' reads went (DATABASE_READ_URL, docs/replicas.md),
 * counted by the process, like the webhook rejects: in no registry of its
 * own, registered in the process's (process-metrics.ts).
 */
export const statsReads = new Counter({
  name: 'tanktop_stats_reads_total',
  help: 'Stats responses (pages, CSV, JSON) by the server their numbers were read from: primary or replica (a 304 counts too).',
  labelNames: ['server'] as const,
  registers: [],
});

export const statsReadFallbacks = new Counter({
  name: 'tanktop_stats_read_fallbacks_total',
  help: 'Stats reads served by the primary although replicas are configured: lagging (every reachable replica further behind than DATABASE_READ_MAX_LAG_MS), unavailable (no replica answered its last check), query_failed (the read failed on a replica and was done again on the primary).',
  labelNames: ['reason'] as const,
  registers: [],
});

export const replicaLag = new Gauge({
  name: 'tanktop_read_replica_lag_seconds',
  help: 'How long the primary has had WAL the replica has not replayed, at its last check (0: caught up; -1: the check failed, or the server is not a standby of this primary).',
  labelNames: ['replica'] as const,
  registers: [],
});

for (const server of ['primary', 'replica']) statsReads.inc({ server }, 0);
for (const reason of READ_FALLBACK_REASONS) statsReadFallbacks.inc({ reason }, 0);
