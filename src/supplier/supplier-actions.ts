import { sql, type Kysely } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import type { Database } from '../db/schema.ts';
import { HttpError } from '../http/http-error.ts';
import type { FulfilmentState, PaymentState } from '../orders/order-states.ts';
import { requestRefund } from './refund-request.ts';
import { sendSubmitJob } from './submission.ts';
import { cancelFulfilment } from './supplier-cancellation.ts';
import type { SupplierClient } from './supplier-client.ts';
import { hasSubmitAttempt } from './supplier-calls.repository.ts';
import { SupplierRejectedError, SupplierRequestError, SupplierRetryableError } from './supplier-errors.ts';
import { lockOrder, lockOrderForSupplier, type LockedOrder } from './supplier-orders.repository.ts';
import { submitSingletonKey, SupplierQueues } from './supplier-queues.ts';
import { supplierClientFrom } from './supplier-workers.ts';

/**
 * The operator's actions on an order (the operations page calls them; see
 * src/ops/supplier-contract.ts). Each is idempotent (a second press finds it
 * done and changes nothing), records itself in order_events with `actor`
 * (`ops:<user>`) as its source, and refuses what the order's state does not
 * allow with HttpError(409, a sentence for the operator).
 */
export interface SupplierActionDeps {
  db: Db;
  /** Jobs (refunds, submissions) are enqueued in the action's transaction. */
  boss?: PgBoss;
  config: Config;
  log: Logger;
  /** Default: one from config (SUPPLIER_API_URL). */
  client?: SupplierClient;
}

export interface ActionOptions {
  /** Who acts: `ops:<user name>`, stored as the source of the order_events rows. */
  actor: string;
}

/** Fulfilment states an operator may cancel from: nothing is being made yet. */
const CANCELLABLE: readonly FulfilmentState[] = ['unfulfilled', 'submitted', 'supplier_failed', 'supplier_rejected'];
const RESUBMITTABLE: readonly FulfilmentState[] = ['unfulfilled', 'supplier_failed', 'supplier_rejected'];

export type CancelOutcome = 'cancelled' | 'already_cancelled';

/**
 * Cancels an order before production starts (fulfilment unfulfilled,
 * submitted, supplier_failed or supplier_rejected): the supplier is asked to
 * cancel it when it may have it (submitted, or ever POSTed), then the order
 * is cancelled and its money given back through order__refund (refund and
 * credit note), or, never paid, its payment cancelled. Refused once the
 * supplier is producing, here or at the supplier (not_cancellable), and when
 * the supplier cannot be reached: then nothing changes.
 */
export async function cancelOrder(deps: SupplierActionDeps, orderId: string, { actor }: ActionOptions): Promise<CancelOutcome> {
  const boss = needBoss(deps, 'Cancelling an order');
  const order = await findOrder(deps.db, orderId);
  if (order.fulfilment_state === 'cancelled') return 'already_cancelled';
  if (order.payment_state === 'payment_processing') {
    throw new HttpError(409, 'not_cancellable', `The payment for order ${order.number} is still being processed: cancel it once the gateway has decided.`);
  }
  if (!CANCELLABLE.includes(order.fulfilment_state)) throw notCancellable(order.number, order.fulfilment_state);
  // Marked (and committed) first: the supplier's cancellation webhook may come before our own transaction below.
  await deps.db.updateTable('supplier_orders').set({ cancel_requested_at: sql`now()`, cancel_requested_by: actor }).where('order_id', '=', order.id).execute();
  const atSupplier = order.fulfilment_state === 'submitted' || order.supplier_order_id !== null || await hasSubmitAttempt(deps.db, order.id);
  if (atSupplier) await cancelAtSupplier(deps, order, actor);
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const locked = await lockOrder(trx, order.id);
    if (!locked) throw new HttpError(404, 'unknown_order', `There is no order with id ${orderId}.`);
    // Moved on meanwhile (the supplier's news came in): what stands now decides.
    if (locked.fulfilment_state !== 'cancelled' && !CANCELLABLE.includes(locked.fulfilment_state)) throw notCancellable(locked.number, locked.fulfilment_state);
    return cancelFulfilment(trx, { ...deps, boss }, locked, { reason: 'cancelled by an operator', source: actor, bySupplier: null });
  });
  deps.log.info({ orderId: order.id, actor, outcome }, 'order cancelled by an operator');
  // The supplier's confirming webhook may have applied this very cancellation first (recorded as the operator's).
  return outcome === 'cancelled' || atSupplier ? 'cancelled' : 'already_cancelled';
}

async function cancelAtSupplier(deps: SupplierActionDeps, order: ActionOrder, actor: string): Promise<void> {
  const client = deps.client ?? supplierClientFrom(deps.config, deps.db, deps.log);
  const undo = () => deps.db.updateTable('supplier_orders').set({ cancel_requested_at: null, cancel_requested_by: null }).where('order_id', '=', order.id).execute();
  if (!client) {
    await undo();
    throw new HttpError(409, 'no_supplier', `Order ${order.number} may be at the supplier, and no supplier is configured here (SUPPLIER_API_URL) to cancel it: nothing was changed.`);
  }
  try {
    const remote = await client.cancelOrder(order.external_id, { orderId: order.id, source: actor });
    if (remote && remote.status !== 'cancelled') {
      await undo();
      throw new HttpError(409, 'not_cancellable', `The supplier did not cancel order ${order.number} (it is ${words(remote.status)} there): nothing was changed.`);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    await undo();
    if (error instanceof SupplierRejectedError && error.code === 'not_cancellable') {
      throw new HttpError(409, 'not_cancellable', `The supplier has started producing order ${order.number}: it can no longer be cancelled. Refund it instead if the customer should get the money back.`);
    }
    if (error instanceof SupplierRetryableError) {
      throw new HttpError(409, 'supplier_unreachable', `The supplier could not be reached to cancel order ${order.number} (${error.status ?? 'no answer'}): nothing was changed. Try again in a minute.`);
    }
    if (error instanceof SupplierRejectedError || error instanceof SupplierRequestError) {
      throw new HttpError(409, 'not_cancellable', `The supplier refused to cancel order ${order.number} (${error.code}): nothing was changed.`);
    }
    throw error;
  }
}

export type ResubmitOutcome = 'queued' | 'already_queued' | 'already_submitted';

/**
 * Sends an order to the supplier again after a fix (supplier_failed,
 * supplier_rejected, or never sent): a new supplier__submit_order job, with
 * the same rules as the first (the order's one Idempotency-Key, and a lookup
 * by external id before anything is created). Only a paid order: a rejected
 * one being refunded is not sent again. Recorded as an order_events row that
 * keeps the fulfilment state (the job moves it once the supplier accepts).
 */
export async function resubmitToSupplier(deps: SupplierActionDeps, orderId: string, { actor }: ActionOptions): Promise<ResubmitOutcome> {
  const boss = needBoss(deps, 'Sending an order to the supplier again');
  return deps.db.transaction().execute(async (trx) => {
    const locked = await lockOrderForSupplier(trx, orderId);
    if (!locked) throw new HttpError(404, 'unknown_order', `Order ${orderId} is not one the supplier workflow knows (it was never paid).`);
    const { order } = locked;
    if (!RESUBMITTABLE.includes(order.fulfilment_state)) {
      if (order.fulfilment_state === 'cancelled') throw new HttpError(409, 'not_resubmittable', `Order ${order.number} is cancelled: there is nothing to send.`);
      return 'already_submitted';
    }
    if (order.payment_state !== 'paid') {
      throw new HttpError(409, 'not_resubmittable', `Order ${order.number} is ${words(order.payment_state)}: only a paid order is sent to the supplier.`);
    }
    const live = await boss.findJobs(SupplierQueues.submitOrder, { key: submitSingletonKey(order.id), db: jobsIn(trx) });
    if (live.some((job) => job.state === 'created' || job.state === 'retry' || job.state === 'active')) return 'already_queued';
    await recordAction(trx, order, 'sent to the supplier again by an operator', actor);
    await trx.updateTable('supplier_orders').set({ cancel_requested_at: null, cancel_requested_by: null }).where('order_id', '=', order.id).execute();
    await sendSubmitJob(boss, { orderId: order.id }, { db: jobsIn(trx) });
    deps.log.info({ orderId: order.id, actor }, 'order sent to the supplier again');
    return 'queued';
  });
}

export type RefundOutcome = 'refund_requested' | 'already_refunding';

/**
 * Gives a paid order's money back (paid → refund_pending, order__refund:
 * gateway refund, credit note, its e-mail). Money only: an order the
 * supplier is still to make is stopped with cancelOrder, which refunds too.
 */
export async function refundOrder(deps: SupplierActionDeps, orderId: string, { actor }: ActionOptions): Promise<RefundOutcome> {
  const boss = needBoss(deps, 'A refund');
  return deps.db.transaction().execute(async (trx) => {
    const order = await trx.selectFrom('orders').select(['id', 'number', 'payment_state']).where('id', '=', orderId).forUpdate().executeTakeFirst();
    if (!order) throw new HttpError(404, 'unknown_order', `There is no order with id ${orderId}.`);
    if (order.payment_state === 'refund_pending' || order.payment_state === 'refunded') return 'already_refunding';
    if (order.payment_state !== 'paid') {
      throw new HttpError(409, 'refund_not_allowed', `Only a paid order can be refunded; order ${order.number} is ${words(order.payment_state)}.`);
    }
    const payments = await trx.selectFrom('payments').select('id').where('order_id', '=', orderId).where('status', '=', 'succeeded').execute();
    if (payments.length !== 1) {
      throw new HttpError(409, 'refund_not_allowed', payments.length === 0
        ? `Order ${order.number} has no succeeded payment to refund.`
        : `Order ${order.number} has ${payments.length} payments: refund them in the payment gateway's dashboard, which tells the shop by webhook.`);
    }
    const outcome = await requestRefund(trx, { ...deps, boss }, { orderId, reason: 'refunded by an operator', source: actor });
    deps.log.info({ orderId, actor, outcome }, 'refund requested by an operator');
    return outcome === 'refund_requested' ? 'refund_requested' : 'already_refunding';
  });
}

interface ActionOrder {
  id: string;
  number: string;
  fulfilment_state: FulfilmentState;
  payment_state: PaymentState;
  external_id: string;
  supplier_order_id: string | null;
}

async function findOrder(db: Db, orderId: string): Promise<ActionOrder> {
  if (!/^[1-9][0-9]{0,18}$/.test(orderId)) throw new HttpError(404, 'unknown_order', `There is no order with id ${orderId}.`);
  const order = await db.selectFrom('orders as o').leftJoin('supplier_orders as s', 's.order_id', 'o.id')
    .select(['o.id', 'o.number', 'o.fulfilment_state', 'o.payment_state', 's.external_id', 's.supplier_order_id'])
    .where('o.id', '=', orderId).executeTakeFirst();
  if (!order) throw new HttpError(404, 'unknown_order', `There is no order with id ${orderId}.`);
  // An order never paid has no supplier row: nothing can be at the supplier.
  return { ...order, external_id: order.external_id ?? order.number };
}

function notCancellable(number: string, state: FulfilmentState): HttpError {
  return new HttpError(409, 'not_cancellable', `Order ${number} is ${words(state)} at the supplier: it can no longer be cancelled. Refund it instead if the customer should get the money back.`);
}

function needBoss(deps: SupplierActionDeps, what: string): PgBoss {
  if (!deps.boss) throw new HttpError(409, 'no_job_queue', `${what} needs the job queue, which this process does not have.`);
  return deps.boss;
}

/** An action that changes no state, in the order's history: from and to are its current fulfilment state. */
async function recordAction(db: Kysely<Database>, order: LockedOrder, reason: string, source: string): Promise<void> {
  await db.insertInto('order_events').values({
    order_id: order.id, dimension: 'fulfilment', from_state: order.fulfilment_state, to_state: order.fulfilment_state, reason, source,
  }).execute();
}

function words(state: string): string {
  return state.replaceAll('_', ' ');
}
