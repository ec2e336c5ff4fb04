import { PgBoss, type ConstructorOptions } from 'pg-boss';
import type { Logger } from 'pino';
import type { DatabasePooling } from '../config.ts';
import { PreparingBossClient } from './preparing-boss-client.ts';

export interface BossOptions {
  /** Connections pg-boss may hold (default 6). */
  max?: number;
  /** Which name the instance carries in pg-boss's registry (`api`, `worker`). */
  instanceName?: string;
  /** Cron schedules run only in processes that say so (the worker). */
  schedule?: boolean;
  /**
   * How often the supervisor looks for expired jobs and jobs whose worker
   * stopped sending heartbeats (a killed process), in seconds (pg-boss's default 60).
   */
  superviseIntervalSeconds?: number;
  /**
   * `transaction` (a pooler in transaction mode between us and Postgres):
   * statements run unnamed and workers poll instead of LISTENing (a LISTEN
   * stays on whichever server connection ran it, which then serves other
   * clients; pg-boss's listener heartbeat finds it gone and reconnects
   * forever). Default `session`.
   */
  pooling?: DatabasePooling;
}

/**
 * A pg-boss instance in its own schema (`pgboss`) of the application's
 * database, so a job is enqueued in the same transaction as the rows it is
 * about. Not started: the caller starts and stops it.
 *
 * Without an 'error' listener a lost database connection would crash the
 * process; with one, pg-boss reconnects and the error is logged.
 */
export function createBoss(databaseUrl: string, log: Logger, options: BossOptions = {}): PgBoss {
  const session = (options.pooling ?? 'session') === 'session';
  const settings: ConstructorOptions & { Client?: typeof PreparingBossClient } = {
    connectionString: databaseUrl,
    // Passed through to pg-boss's pg.Pool: its statements run prepared (see preparing-boss-client.ts).
    ...(session ? { Client: PreparingBossClient } : {}),
    schema: 'pgboss',
    max: options.max ?? 6,
    application_name: `tanktop-${options.instanceName ?? 'boss'}`,
    schedule: options.schedule ?? false,
    supervise: true,
    useListenNotify: session,
    // pg-boss validates a key that is present even when it is undefined.
    ...(options.instanceName ? { instanceName: options.instanceName } : {}),
    ...(options.superviseIntervalSeconds
      ? { superviseIntervalSeconds: options.superviseIntervalSeconds, monitorIntervalSeconds: options.superviseIntervalSeconds }
      : {}),
  };
  const boss = new PgBoss(settings);
  boss.on('error', (error) => log.error({ err: error }, 'job queue error'));
  boss.on('warning', (warning) => log.warn({ warning: warning.message, data: warning.data }, 'job queue warning'));
  return boss;
}

/**
 * Tries to start a boss this many times (1 s, 2 s apart). Processes started at
 * once on a new database all find pg-boss not installed and queue on its
 * install lock; the second to get it can still fail with `duplicate key ...
 * pg_namespace_nspname_index`: its connection looked the schema up before the
 * first committed, and CREATE SCHEMA IF NOT EXISTS trusts that stale lookup
 * (seen in bench:orders starting two web processes through PgBouncer on a
 * fresh database, 2 runs of 3; test/jobs/boss-start-race starts several at once).
 * pg-boss's own answer is start()'s attempts: the next attempt finds it installed.
 */
export const BOSS_START_ATTEMPTS = 3;

/** Starts a boss from createBoss, riding out a concurrent install by another process. */
export async function startBoss(boss: PgBoss): Promise<PgBoss> {
  return boss.start({ attempts: BOSS_START_ATTEMPTS });
}
