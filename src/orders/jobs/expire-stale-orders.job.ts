import { sql } from 'kysely';
import type { JobHandler } from '../../jobs/work-queue.ts';
import type { ExpireStaleOrdersJob } from '../order-queues.ts';
import { syncOrderWithGateway } from '../payment-sync.ts';
import { workflowDeps, type OrderJobDeps } from './order-jobs.deps.ts';

const BATCH = 100;
/** The gateway expires a session at expires_at and says so by webhook: give that a few minutes first. */
const DEFAULT_GRACE_SECONDS = 5 * 60;

/**
 * order__expire_stale (scheduled): orders not paid by their expiry. Each one's
 * session is ended at the gateway (if it is somehow still open) and the
 * gateway's final word applied: expired, or, if the customer paid after all
 * and the webhook was lost, paid.
 */
export function expireStaleOrdersJob(deps: OrderJobDeps): JobHandler<ExpireStaleOrdersJob> {
  return async (data, { jobId, log }) => {
    const grace = data.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    const stale = await deps.db.selectFrom('orders').select('id')
      .where('payment_state', 'in', ['pending_payment', 'payment_failed'])
      .where('needs_review', '=', false)
      .where('expires_at', '<', sql<Date>`now() - make_interval(secs => ${grace})`)
      .orderBy('expires_at').limit(BATCH).execute();
    const outcomes: Record<string, number> = {};
    for (const { id } of stale) {
      const orderLog = log.child({ orderId: id });
      try {
        const outcome = await syncOrderWithGateway(workflowDeps(deps, orderLog), id, { source: `expire:${jobId}`, expireIfOpen: true });
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      } catch (error) {
        outcomes.error = (outcomes.error ?? 0) + 1;
        orderLog.warn({ err: error }, 'the stale order could not be expired; the next run tries again');
      }
    }
    return outcomes;
  };
}
