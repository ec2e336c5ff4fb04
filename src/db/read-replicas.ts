import type pg from 'pg';
import type { Logger } from 'pino';
import type { DatabasePooling, ReadReplicasConfig } from '../config.ts';
import { replicaLag, statsReadFallbacks, type ReadFallbackReason } from '../metrics/stats-reads.ts';
import { createDb, type Db } from './kysely.ts';
import { createPool } from './pool.ts';
import { createWalHistory, parseLsn } from './wal-history.ts';

/** A server the stats pages can read from. */
export interface ReadTarget {
  /** `primary`, or `replica-N` (N: its place in DATABASE_READ_URL; never the URL, which may carry a password). */
  readonly name: string;
  readonly standby: boolean;
  readonly pool: pg.Pool;
  readonly db: Db;
  /** How far behind the primary it was at its last check (ms; 0 on the primary). */
  readonly lagMs: number;
  /** More than DATABASE_READ_NOTICE_LAG_MS behind: the page says so. */
  readonly behind: boolean;
}

/**
 * Where the stats pages read (docs/replicas.md): each replica's replay
 * position is checked every interval against the primary's WAL position, and
 * `pick` hands out, in turn, the replicas that answered their last check, are
 * standbys of this primary's cluster, and are at most DATABASE_READ_MAX_LAG_MS behind; with none, the
 * primary. Nothing here ever blocks a request on a check: `pick` uses the
 * last one.
 */
export interface ReadRouting {
  readonly primary: ReadTarget;
  /** Whether any replica is configured. */
  readonly replicated: boolean;
  pick(): ReadTarget;
  /** A read on `target` failed with `error`: a lost connection takes the replica out until its next good check. */
  failed(target: ReadTarget, error: unknown): void;
  /** Checks every replica now (the first check, and tests). */
  check(): Promise<void>;
  close(): Promise<void>;
}

interface ReplicaState {
  name: string;
  pool: pg.Pool;
  db: Db;
  /** Undefined until a check tells; then why it cannot be read, or undefined when it can. */
  unusable: 'unchecked' | 'unreachable' | 'not_standby' | 'other_cluster' | 'lagging' | undefined;
  lagMs: number;
}

/** Errors that say the server (or the way to it) is gone, not that one statement failed: class 08 and the shutdown codes. */
function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true; // ECONNREFUSED, ETIMEDOUT, a closed socket
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}

export interface ReadRoutingOptions {
  primary: { pool: pg.Pool; db: Db };
  config: ReadReplicasConfig;
  pooling: DatabasePooling;
  log: Logger;
  /** Replica pools' size (default: the primary's). */
  poolSize?: number;
}

/** The cluster's identity, the same on a primary and its physical replicas (pg_control_system() is open to every role). */
const SYSTEM_IDENTIFIER = 'select system_identifier::text from pg_control_system()';

/** The check's own bound: a replica that takes longer to say where it is counts as unreachable this round. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * A check's query, given up after CHECK_TIMEOUT_MS. pg reads query_timeout
 * per query too (client.js), though @types/pg lists it for the client only;
 * on the pool it would bound the pages' own long reads.
 */
function bounded(text: string): pg.QueryConfig {
  return { text, query_timeout: CHECK_TIMEOUT_MS } as pg.QueryConfig;
}

export function createReadRouting({ primary, config, pooling, log, poolSize }: ReadRoutingOptions): ReadRouting {
  const primaryTarget: ReadTarget = { name: 'primary', standby: false, pool: primary.pool, db: primary.db, lagMs: 0, behind: false };
  const replicas: ReplicaState[] = config.urls.map((url, i) => {
    const pool = createPool(url, log, { max: poolSize ?? primary.pool.options.max ?? 10, connectionTimeoutMillis: CHECK_TIMEOUT_MS });
    return { name: `replica-${i + 1}`, pool, db: createDb(pool, { pooling }), unusable: 'unchecked', lagMs: 0 };
  });
  const history = createWalHistory(config.maxLagMs + 2 * config.checkIntervalMs);
  let turn = 0;
  let checking: Promise<void> | undefined;
  let closed = false;

  function set(replica: ReplicaState, unusable: ReplicaState['unusable'], lagMs: number): void {
    if (unusable !== replica.unusable) {
      if (unusable === undefined) log.info({ replica: replica.name, lagMs }, 'read replica in use for the stats pages');
      else log.warn({ replica: replica.name, reason: unusable, lagMs }, 'read replica not in use: the stats pages read elsewhere');
    }
    replica.unusable = unusable;
    replica.lagMs = lagMs;
    replicaLag.set({ replica: replica.name }, unusable === undefined || unusable === 'lagging' ? lagMs / 1000 : -1);
  }

  async function checkReplica(replica: ReplicaState, primarySystem: string): Promise<void> {
    try {
      const { rows } = await replica.pool.query<{ standby: boolean; replayed: string | null; system: string }>(
        bounded(`select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replayed, (${SYSTEM_IDENTIFIER}) as system`));
      const { standby, replayed, system } = rows[0]!;
      // A promoted replica (or a URL of another primary) no longer follows this primary: its numbers part ways.
      if (!standby || replayed === null) return set(replica, 'not_standby', 0);
      // A physical copy shares its primary's system identifier: a standby of another cluster holds other numbers.
      if (system !== primarySystem) return set(replica, 'other_cluster', 0);
      const lagMs = history.lagMs(parseLsn(replayed), Date.now());
      set(replica, lagMs > config.maxLagMs ? 'lagging' : undefined, lagMs);
    } catch (error) {
      if (replica.unusable !== 'unreachable') log.warn({ replica: replica.name, err: error }, 'read replica check failed');
      set(replica, 'unreachable', 0);
    }
  }

  async function checkAll(): Promise<void> {
    let primarySystem: string;
    try {
      // The primary first: a replica that has replayed up to this position by the time it answers is current.
      const { rows } = await primary.pool.query<{ lsn: string; system: string }>(bounded(`select pg_current_wal_lsn()::text as lsn, (${SYSTEM_IDENTIFIER}) as system`));
      history.record(parseLsn(rows[0]!.lsn), Date.now());
      primarySystem = rows[0]!.system;
    } catch (error) {
      // Without the primary's position no lag can be told: the replicas keep their last verdict until it answers again.
      log.warn({ err: error }, 'read replica check: the primary\'s WAL position could not be read');
      return;
    }
    await Promise.all(replicas.map((replica) => checkReplica(replica, primarySystem)));
  }

  function check(): Promise<void> {
    // One round at a time: a slow replica does not pile up checks.
    checking ??= checkAll().finally(() => { checking = undefined; });
    return checking;
  }

  const timer = replicas.length > 0 ? setInterval(() => { if (!closed) void check(); }, config.checkIntervalMs) : undefined;
  timer?.unref();
  if (replicas.length > 0) void check();

  return {
    primary: primaryTarget,
    replicated: replicas.length > 0,
    pick() {
      if (replicas.length === 0) return primaryTarget;
      const usable = replicas.filter((replica) => replica.unusable === undefined);
      if (usable.length === 0) {
        const reason: ReadFallbackReason = replicas.some((replica) => replica.unusable === 'lagging') ? 'lagging' : 'unavailable';
        statsReadFallbacks.inc({ reason });
        return primaryTarget;
      }
      const replica = usable[turn++ % usable.length]!;
      return { name: replica.name, standby: true, pool: replica.pool, db: replica.db, lagMs: replica.lagMs, behind: replica.lagMs > config.noticeLagMs };
    },
    failed(target, error) {
      if (!target.standby) return;
      statsReadFallbacks.inc({ reason: 'query_failed' });
      const replica = replicas.find((r) => r.name === target.name);
      if (replica && connectionLost(error)) set(replica, 'unreachable', 0);
    },
    check,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await checking;
      await Promise.all(replicas.map((replica) => replica.db.destroy().catch(() => {})));
    },
  };
}
