import type { Logger } from 'pino';
import type { JobHandler } from '../../jobs/work-queue.ts';
import { transitionFulfilment } from '../../orders/order-state-machine.ts';
import { alertSupplierFailed, alertSupplierRejected } from '../supplier-alerts.ts';
import { hasSubmitAttempt } from '../supplier-calls.repository.ts';
import { requireClient, type SupplierJobDeps } from '../supplier-deps.ts';
import { queueRejectedEmail } from '../supplier-emails.ts';
import { SupplierRejectedError, SupplierRequestError, SupplierRetryableError } from '../supplier-errors.ts';
import { lockOrderForSupplier } from '../supplier-orders.repository.ts';
import { applySupplierOrder } from '../supplier-progress.ts';
import { SUBMIT_ATTEMPTS, type SubmitOrderJob } from '../supplier-queues.ts';
import { requestRefund } from '../refund-request.ts';
import { loadSubmission, sendSubmitJob, type Submission } from '../submission.ts';

/** Where an order may be (re)submitted from; anything further along was accepted already. */
const SUBMITTABLE = ['unfulfilled', 'supplier_failed', 'supplier_rejected'];
/** The longest a 429 may push the next attempt back. */
const MAX_RETRY_AFTER_SECONDS = 15 * 60;

/**
 * supplier__submit_order: hands a paid order to the supplier, once.
 * - Before every attempt but the first (and before the first too, when an
 *   earlier POST for the order is on record: a lost answer, a killed worker,
 *   a second copy of the job), the order is looked up by its external id: if
 *   the supplier has it, that is recorded and nothing is sent again. A lookup
 *   that fails (5xx, 429, no answer) does not end the attempt: the POST goes
 *   out anyway, safe with the order's Idempotency-Key and unique external id
 *   (a supplier that has the order answers with it, or 409 and we look again).
 * - POST /orders carries the order's one Idempotency-Key, so two copies that
 *   both send get the same order back.
 * - The answer goes through the webhooks' own code (applySupplierOrder):
 *   fulfilment submitted, the supplier's id stored.
 * - A 4xx about the order is final: supplier_rejected, the reason stored, the
 *   customer told and refunded (credit note), the team alerted.
 * - A 4xx that is our own fault (token, URL, request): supplier_failed and an
 *   alert at once, for us to fix and resubmit; no retries, no refund.
 * - Anything else is retried: three attempts in all, backing off with jitter;
 *   a 429 schedules the next attempt at its Retry-After instead. After the
 *   last one: supplier_failed, one alert, and the job fails into its
 *   dead-letter queue.
 */
export function submitOrderJob(deps: SupplierJobDeps): JobHandler<SubmitOrderJob> {
  return async (data, { jobId, retryCount, log }) => {
    const attempt = (data.attemptsBefore ?? 0) + retryCount + 1;
    const source = `job:${jobId}`;
    const submission = await loadSubmission(deps.db, data.orderId);
    if (!submission) return 'not handed to the supplier workflow';
    if (!SUBMITTABLE.includes(submission.fulfilmentState)) return `nothing to do: ${submission.fulfilmentState}`;
    if (submission.paymentState !== 'paid') return `not sent: the payment is ${submission.paymentState}`;
    const client = requireClient(deps);
    const context = { orderId: submission.orderId, source };
    try {
      let found = attempt > 1 || await hasSubmitAttempt(deps.db, submission.orderId)
        ? await lookUp(client, submission, context, log)
        : null;
      let outcome = 'found';
      if (!found) ({ order: found, outcome } = await client.createOrder(submission.request, submission.idempotencyKey, context));
      const remote = found;
      const applied = await deps.db.transaction().execute((trx) => applySupplierOrder(trx, { ...deps, log }, remote, { source }));
      log.info({ attempt, outcome, applied, supplierOrderId: remote.id }, 'order handed to the supplier');
      return `${outcome}: ${applied}`;
    } catch (error) {
      if (error instanceof SupplierRejectedError) return reject(deps, submission, error, source, log);
      if (error instanceof SupplierRequestError) {
        // Our token, URL or request is wrong: retrying cannot help, and the customer is not to blame. Fixed, then resubmitted.
        await giveUp(deps, submission, attempt, error, source, log);
        return `not sent: ${error.status} ${error.code}`;
      }
      if (attempt >= SUBMIT_ATTEMPTS) {
        await giveUp(deps, submission, attempt, error, source, log);
        throw error;
      }
      if (error instanceof SupplierRetryableError && error.retryAfterSeconds !== null) {
        return retryAt(deps, submission, attempt, error.retryAfterSeconds, log);
      }
      throw error;
    }
  };
}

/**
 * The lookup before a retry. Unknown (the supplier failed to answer) is
 * treated as not found: the POST that follows cannot create a second order
 * (Idempotency-Key, unique external id), and an attempt is not spent on a
 * failed read. Anything but a retryable failure is thrown as it is.
 */
async function lookUp(client: ReturnType<typeof requireClient>, submission: Submission, context: { orderId: string; source: string }, log: Logger) {
  try {
    return await client.findOrder(submission.externalId, context);
  } catch (error) {
    if (!(error instanceof SupplierRetryableError)) throw error;
    log.info({ status: error.status, code: error.code }, 'the lookup before a retry failed: sending the order with its idempotency key instead');
    return null;
  }
}

/** A 4xx: the order as it is will never be accepted. One transaction: state, reason, e-mail, refund, alert. */
async function reject(deps: SupplierJobDeps, submission: Submission, error: SupplierRejectedError, source: string, log: Logger): Promise<string> {
  await deps.db.transaction().execute(async (trx) => {
    const locked = await lockOrderForSupplier(trx, submission.orderId);
    if (!locked) return;
    const { order } = locked;
    await trx.updateTable('supplier_orders').set({ rejection_code: error.code, rejection_reason: error.message.slice(0, 2000), rejected_at: new Date() })
      .where('order_id', '=', order.id).execute();
    const reason = `the supplier rejected the order (${error.code})`;
    const moved = await transitionFulfilment(trx, { orderId: order.id, to: 'supplier_rejected', from: ['unfulfilled', 'submitted', 'supplier_failed'], reason, source }, deps.log);
    if (moved || order.fulfilment_state === 'supplier_rejected') {
      await queueRejectedEmail(trx, deps, order);
      await requestRefund(trx, deps, { orderId: order.id, reason, source });
      await alertSupplierRejected(trx, deps, order, error.code);
    }
  });
  log.warn({ status: error.status, code: error.code }, 'the supplier rejected the order: refund scheduled');
  return `rejected: ${error.code}`;
}

/** The last attempt failed: supplier_failed and one alert, committed before the job fails into its dead-letter queue. */
async function giveUp(deps: SupplierJobDeps, submission: Submission, attempts: number, error: unknown, source: string, log: Logger): Promise<void> {
  const what = error instanceof SupplierRetryableError || error instanceof SupplierRequestError ? `${error.status ?? 'no answer'} ${error.code}` : 'an internal error';
  try {
    await deps.db.transaction().execute(async (trx) => {
      const locked = await lockOrderForSupplier(trx, submission.orderId);
      if (!locked) return;
      await transitionFulfilment(trx, {
        orderId: submission.orderId, to: 'supplier_failed', from: ['unfulfilled', 'submitted'], reason: `the supplier could not be reached (${attempts} attempts; last: ${what})`, source,
      }, deps.log);
      await alertSupplierFailed(trx, deps, locked.order, attempts, what);
    });
  } catch (failure) {
    log.error({ err: failure }, 'could not record that the submission failed');
  }
  log.error({ err: error, attempts }, 'the order could not be handed to the supplier: supplier_failed');
}

/**
 * A 429: the next attempt waits for the Retry-After the supplier asked for,
 * as a new job carrying the attempts made (pg-boss 12 cannot set one retry's
 * delay from the handler). This job then completes.
 */
async function retryAt(deps: SupplierJobDeps, submission: Submission, attempt: number, seconds: number, log: Logger): Promise<string> {
  const delay = Math.min(Math.max(seconds, 1), MAX_RETRY_AFTER_SECONDS);
  await sendSubmitJob(deps.boss, { orderId: submission.orderId, attemptsBefore: attempt }, { startAfter: delay, retryLimit: SUBMIT_ATTEMPTS - attempt - 1 });
  log.info({ attempt, retryAfterSeconds: delay }, 'the supplier asked us to wait: next attempt scheduled');
  return `rate limited: next attempt in ${delay} s`;
}
