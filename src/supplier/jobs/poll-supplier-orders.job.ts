import { sql } from 'kysely';
import type { JobHandler } from '../../jobs/work-queue.ts';
import { alertMissingAtSupplier } from '../supplier-alerts.ts';
import { requireClient, type SupplierJobDeps } from '../supplier-deps.ts';
import { lockOrderForSupplier } from '../supplier-orders.repository.ts';
import { applySupplierOrder } from '../supplier-progress.ts';
import { SupplierQueues, type PollSupplierOrdersJob, type ProcessSupplierEventJob } from '../supplier-queues.ts';

const BATCH = 100;
/** A stored supplier webhook unprocessed this long has no live job (stored by a process without a queue, or dead-lettered). */
const INBOX_SWEEP_AFTER_SECONDS = 60;

/**
 * supplier__poll_orders (scheduled): the safety net for supplier webhooks that
 * never came. Orders on their way (submitted, in production, shipping) whose
 * supplier status has not moved, and which were not asked about, for
 * SUPPLIER_POLL_AFTER_MINUTES are looked up (GET /orders/@<external id>) and
 * the answer applied through the webhooks' own code, so what a late webhook
 * then says changes nothing twice. Supplier webhooks stored but never
 * processed get their job again. Each order is its own transaction: one
 * failure does not stop the others, and the next run tries again.
 */
export function pollSupplierOrdersJob(deps: SupplierJobDeps): JobHandler<PollSupplierOrdersJob> {
  return async (data, { jobId, log }) => {
    const client = requireClient(deps);
    const olderThanSeconds = data.olderThanSeconds ?? deps.config.supplier.pollAfterMinutes * 60;
    const cutoff = sql<Date>`now() - make_interval(secs => ${olderThanSeconds})`;
    const source = `poll:${jobId}`;

    const requeued = await sweepInbox(deps, Math.min(olderThanSeconds, INBOX_SWEEP_AFTER_SECONDS));

    const stale = await deps.db.selectFrom('supplier_orders as s').innerJoin('orders as o', 'o.id', 's.order_id')
      .select(['o.id', 'o.number', 's.external_id'])
      // The predicate of supplier_orders_in_flight_idx, as literals, so the planner can use it.
      .where(sql<boolean>`s.supplier_order_id is not null
        and s.last_supplier_status in ('pending', 'in_production', 'on_hold', 'partially_shipped', 'shipped')`)
      .where('o.fulfilment_state', 'in', ['submitted', 'in_production', 'partially_shipped', 'shipped'])
      .where(sql<boolean>`greatest(coalesce(s.supplier_status_at, s.submitted_at), s.last_polled_at) < ${cutoff}`)
      .orderBy(sql`greatest(coalesce(s.supplier_status_at, s.submitted_at), s.last_polled_at)`)
      .limit(BATCH).execute();
    const outcomes: Record<string, number> = {};
    const count = (outcome: string) => { outcomes[outcome] = (outcomes[outcome] ?? 0) + 1; };
    for (const order of stale) {
      const orderLog = log.child({ orderId: order.id });
      try {
        const remote = await client.findOrder(order.external_id, { orderId: order.id, source });
        const outcome = await deps.db.transaction().execute(async (trx) => {
          await trx.updateTable('supplier_orders').set({ last_polled_at: sql`now()` }).where('order_id', '=', order.id).execute();
          if (remote) return applySupplierOrder(trx, { ...deps, log: orderLog }, remote, { source });
          const locked = await lockOrderForSupplier(trx, order.id);
          if (locked) await alertMissingAtSupplier(trx, deps, locked.order);
          return 'missing at the supplier';
        });
        count(outcome);
        if (outcome !== 'no_change') orderLog.info({ outcome }, 'supplier order polled');
      } catch (error) {
        count('error');
        orderLog.warn({ err: error }, 'the supplier could not be asked about this order; the next run tries again');
      }
    }
    return { requeuedEvents: requeued, orders: outcomes };
  };
}

async function sweepInbox(deps: SupplierJobDeps, afterSeconds: number): Promise<number> {
  const unprocessed = await deps.db.selectFrom('webhook_events').select('id')
    .where('provider', '=', 'supplier').where('processed_at', 'is', null)
    .where('received_at', '<', sql<Date>`now() - make_interval(secs => ${afterSeconds})`)
    .orderBy('id').limit(BATCH).execute();
  let requeued = 0;
  for (const { id } of unprocessed) {
    const job: ProcessSupplierEventJob = { webhookEventId: id };
    const pending = await deps.boss.findJobs(SupplierQueues.processEvent, { data: job });
    if (pending.some((existing) => existing.state === 'created' || existing.state === 'retry' || existing.state === 'active')) continue;
    await deps.boss.send(SupplierQueues.processEvent, job);
    requeued++;
  }
  return requeued;
}
