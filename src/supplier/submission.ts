import type { Transaction } from 'kysely';
import type { PgBoss } from 'pg-boss';
import { jobsIn } from '../jobs/jobs-in-transaction.ts';
import type { Db } from '../db/kysely.ts';
import type { Database } from '../db/schema.ts';
import type { FulfilmentState, PaymentState } from '../orders/order-states.ts';
import type { SupplierOrderRequest } from './supplier-api.types.ts';
import { submitSingletonKey, SupplierQueues, type SubmitOrderJob } from './supplier-queues.ts';
import { prepared } from '../db/kysely.ts';

/** One key per order for POST /orders, whoever sends it how often (every attempt, job copy and resubmission). */
export function submitIdempotencyKey(orderId: string, number: string): string {
  return `tanktop-order-${orderId}-${number}-supplier`;
}

/** Our products have no SKU of their own yet: the supplier knows them by this one. */
export function skuOf(productId: string): string {
  return `TT-${productId}`;
}

/**
 * Hands a paid order to the supplier workflow, in the payment's transaction:
 * its supplier_orders row (the external id is the order number, the
 * idempotency key fixed now) and the supplier__submit_order job, one live job
 * per order. Committed with the payment, or not at all. The caller passes
 * the order as it read it under the payment's lock (no second select).
 */
export async function enqueueSupplierSubmission(trx: Transaction<Database>, boss: Pick<PgBoss, 'send'>, order: { id: string; number: string }): Promise<void> {
  await trx.insertInto('supplier_orders')
    .values({ order_id: order.id, external_id: order.number, idempotency_key: submitIdempotencyKey(order.id, order.number) })
    .onConflict((conflict) => conflict.column('order_id').doNothing())
    .modifyEnd(prepared)
    .execute();
  await sendSubmitJob(boss, { orderId: order.id }, { db: jobsIn(trx) });
}

/** A submit job (one live job per order and state: a second one waiting for the same order is not added). */
export function sendSubmitJob(boss: Pick<PgBoss, 'send'>, job: SubmitOrderJob, options: Parameters<PgBoss['send']>[2] = {}) {
  return boss.send(SupplierQueues.submitOrder, job, { ...options, singletonKey: submitSingletonKey(job.orderId) });
}

export interface Submission {
  orderId: string;
  number: string;
  externalId: string;
  idempotencyKey: string;
  fulfilmentState: FulfilmentState;
  paymentState: PaymentState;
  request: SupplierOrderRequest;
}

/** The order as the submit job sends it; undefined when it is not (or not yet) handed to the supplier workflow. */
export async function loadSubmission(db: Db, orderId: string): Promise<Submission | undefined> {
  const order = await db.selectFrom('orders as o').innerJoin('supplier_orders as s', 's.order_id', 'o.id')
    .select(['o.id', 'o.number', 'o.fulfilment_state', 'o.payment_state', 'o.customer_name', 'o.address_line1', 'o.address_line2',
      'o.postal_code', 'o.city', 'o.country', 's.external_id', 's.idempotency_key'])
    .where('o.id', '=', orderId).executeTakeFirst();
  if (!order) return undefined;
  const items = await db.selectFrom('order_items').select(['product_id', 'quantity', 'name']).where('order_id', '=', orderId).orderBy('id').execute();
  return {
    orderId: order.id,
    number: order.number,
    externalId: order.external_id,
    idempotencyKey: order.idempotency_key,
    fulfilmentState: order.fulfilment_state,
    paymentState: order.payment_state,
    // The same body on every attempt (items in a fixed order): the supplier replays a repeated key only for the same body.
    request: {
      external_id: order.external_id,
      recipient: {
        name: order.customer_name,
        address1: order.address_line1,
        address2: order.address_line2,
        city: order.city,
        state_code: null,
        zip: order.postal_code,
        country_code: order.country,
        // We send the customer's e-mails ourselves; the supplier needs no address of theirs.
        email: null,
      },
      items: items.map((item) => ({ sku: skuOf(item.product_id), quantity: item.quantity, name: item.name })),
    },
  };
}
