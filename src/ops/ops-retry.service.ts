import { sql, type Transaction } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Logger } from 'pino';
import type { Db } from '../db/kysely.ts';
import type { Database } from '../db/schema.ts';
import { SqlState } from '../db/sqlstate.ts';
import { HttpError } from '../http/http-error.ts';
import { recordOpsAction } from './ops-events.ts';
import { orderIdsOfJobs, type JobRow } from './ops-jobs.repository.ts';
import { dimensionOfQueue, type OpsQueues } from './ops-queues.ts';

export interface RetryDeps {
  db: Db;
  boss: PgBoss;
  queues: OpsQueues;
  log: Logger;
}

export interface RetryRequest {
  /** The queue and id of the row the operator pressed Retry on: a failed job, or its dead-letter copy. */
  queue: string;
  jobId: string;
  /** `ops:<user name>`, the source of the order_events row. */
  actor: string;
  /** From an order's page: the job must be one of that order's. */
  orderId?: string;
}

export type RetryOutcome = 'retried' | 'already' | 'gone';

type Trx = Transaction<Database>;

interface Locked {
  id: string;
  name: string;
  state: JobRow['state'];
  data: Record<string, unknown> | null;
  dead_letter: string | null;
  source_name: string | null;
  source_id: string | null;
}

const WAITING = ['created', 'retry'];

async function readJob(trx: Trx, queue: string, id: string, lock: boolean): Promise<Locked | undefined> {
  const { rows: [row] } = await sql<Locked>`
    select id::text as id, name, state::text as state, data, dead_letter, source_name, source_id::text as source_id
    from pgboss.job where name = ${queue} and id = ${id}::uuid
    ${lock ? sql`for update` : sql``}`.execute(trx);
  return row;
}

/**
 * Retry sends a failed step once more, however often the button is pressed.
 *
 * A job that fails its last attempt stays in its queue as `failed`, and
 * pg-boss puts a copy in the dead-letter queue. Retry acts on the original:
 * pg-boss's retry() turns a `failed` job back into `retry` (one more
 * attempt, its own data, its own queue) and does nothing to a job in any
 * other state; the waiting copy is deleted in the same transaction. The
 * original is locked first (then the copies), from either row, so two
 * presses run one after the other and the second finds nothing failed.
 * When pg-boss has already deleted the original (main queues keep failed
 * jobs for days, dead-letter queues for 30), the copy itself is redriven to
 * the original queue, which moves it out of the dead-letter queue: a second
 * press finds it gone.
 *
 * A retried job that belongs to an order is recorded in order_events.
 */
export async function retryJob(deps: RetryDeps, request: RetryRequest): Promise<RetryOutcome> {
  try {
    return await retryInTransaction(deps, request);
  } catch (error) {
    // A queue with a singleton policy (supplier__submit_order: one job per order and state) refuses a
    // second waiting job with the same key: another attempt of this step is already on its way.
    if ((error as { code?: unknown }).code !== SqlState.uniqueViolation) throw error;
    throw new HttpError(409, 'already_waiting', 'Another attempt of this step is already waiting or running: nothing was sent again.');
  }
}

async function retryInTransaction(deps: RetryDeps, request: RetryRequest): Promise<RetryOutcome> {
  const { queues } = deps;
  return deps.db.transaction().execute(async (trx) => {
    const pressed = await readJob(trx, request.queue, request.jobId, false);
    if (!pressed) return 'gone';
    const fromCopy = queues.isDeadLetter(request.queue);
    if (fromCopy && (!pressed.source_name || !pressed.source_id)) {
      throw new HttpError(409, 'not_retryable', 'This dead letter does not say which queue it came from, so it cannot be sent back.');
    }
    const sourceQueue = fromCopy ? pressed.source_name! : pressed.name;
    const sourceId = fromCopy ? pressed.source_id! : pressed.id;

    const [orderId] = await orderIdsOfJobs(trx, [pressed]);
    if (request.orderId !== undefined && orderId !== request.orderId) {
      throw new HttpError(404, 'not_this_order', `Job ${request.jobId} is not one of order ${request.orderId}'s jobs.`);
    }

    const original = await readJob(trx, sourceQueue, sourceId, true);
    const copyQueue = fromCopy ? request.queue : (original?.dead_letter ?? queues.deadLetterOf.get(sourceQueue));
    const { rows: copies } = copyQueue
      ? await sql<{ id: string }>`
          select id::text as id from pgboss.job
          where name = ${copyQueue} and source_id = ${sourceId}::uuid and state::text = any(${WAITING}::text[])
          order by id for update`.execute(trx)
      : { rows: [] };
    if (fromCopy && !copies.some((copy) => copy.id === pressed.id)) return 'gone';

    let outcome: RetryOutcome;
    const db = jobsIn(trx);
    if (original?.state === 'failed') {
      const response = await deps.boss.retry(sourceQueue, sourceId, { db });
      outcome = (response as { affected?: number }).affected === 1 ? 'retried' : 'already';
      if (copies.length > 0) await deps.boss.deleteJob(copyQueue!, copies.map((copy) => copy.id), { db });
    } else if (original) {
      // Retried already (from the other row, or by pg-boss's own retries): the copy is stale.
      if (copies.length > 0) await deps.boss.deleteJob(copyQueue!, copies.map((copy) => copy.id), { db });
      outcome = 'already';
    } else if (fromCopy) {
      const moved = await deps.boss.redrive(request.queue, { ids: [pressed.id], db, limit: 1 });
      outcome = moved === 1 ? 'retried' : 'gone';
    } else {
      outcome = 'gone';
    }

    if (outcome === 'retried' && orderId !== undefined) {
      await recordOpsAction(trx, {
        orderId, dimension: dimensionOfQueue(sourceQueue), source: request.actor,
        reason: `an operator retried the failed job ${sourceQueue} ${sourceId}`,
      });
    }
    deps.log.info({ queue: request.queue, jobId: request.jobId, sourceQueue, sourceId, orderId, outcome, actor: request.actor }, 'ops: retry');
    return outcome;
  });
}
