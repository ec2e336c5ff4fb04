import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import { FULFILMENT, PAYMENT, type DimensionSpec, type FulfilmentState, type PaymentState } from './order-states.ts';
import { prepared } from '../db/kysely.ts';

export { FULFILMENT_STATES, PAYMENT_STATES, PAYMENT_TRANSITIONS, FULFILMENT_TRANSITIONS, allTransitions } from './order-states.ts';

/** A Kysely instance or a transaction of one. */
export type Executor = Kysely<Database>;

export interface TransitionRequest<S extends string> {
  orderId: string;
  to: S;
  /** Why, in a few words (stored in order_events). */
  reason: string;
  /** What caused it: a webhook event id, a job id, a request id. */
  source?: string | null;
  /** Only from these states (a subset of the allowed ones); default: every allowed one. */
  from?: readonly S[];
  /**
   * More assignments for the same update, made only if the transition is
   * (`paid_at = now()` on the way to paid): one write of the row, not two.
   * A fixed-shape fragment: the statement is prepared by its text.
   */
  alsoSet?: RawBuilder<unknown>;
}

/**
 * Moves an order to `to` if, and only if, its current state is one the
 * transition is allowed from: one statement that locks the row, compares,
 * updates and writes the order_events row, so two concurrent callers cannot
 * both win and no transition goes unrecorded. Returns whether it happened; a
 * refused transition (already there, or a state it may not come from) changes
 * nothing and is logged.
 */
async function transition<S extends string>(
  db: Executor, spec: DimensionSpec<S>, request: TransitionRequest<S>, log?: Logger,
): Promise<boolean> {
  const allowed = spec.transitions[request.to].filter((state) => !request.from || request.from.includes(state));
  const column = sql.ref(spec.column);
  // The CTE locks the row and reads its current state; the update compares it
  // with the allowed ones (the lock keeps it current until the end of the
  // transaction), and the insert records exactly the rows that changed.
  const { rows } = await sql<{ from_state: string }>`${prepared}
    with locked as (
      select id, ${column} as from_state from orders where id = ${request.orderId} for update
    ), changed as (
      update orders as o set ${column} = ${request.to}${request.alsoSet ? sql`, ${request.alsoSet}` : sql``}
      from locked
      where o.id = locked.id and locked.from_state = any(${sql.val(allowed)}::text[])
      returning o.id, locked.from_state
    ), recorded as (
      insert into order_events (order_id, dimension, from_state, to_state, reason, source)
      select id, ${spec.dimension}, from_state, ${request.to}, ${request.reason}, ${request.source ?? null} from changed
    )
    select from_state from changed`.execute(db);
  const changed = rows.length === 1;
  if (!changed) {
    log?.info({ orderId: request.orderId, dimension: spec.dimension, to: request.to, reason: request.reason, source: request.source },
      'order transition refused: not allowed from the current state');
  }
  return changed;
}

export function transitionPayment(db: Executor, request: TransitionRequest<PaymentState>, log?: Logger): Promise<boolean> {
  return transition(db, PAYMENT, request, log);
}

export function transitionFulfilment(db: Executor, request: TransitionRequest<FulfilmentState>, log?: Logger): Promise<boolean> {
  return transition(db, FULFILMENT, request, log);
}

/**
 * Flags an order for a person to look at (an amount that differs from the
 * order's, a second payment), with an order_events row. Idempotent: an order
 * already flagged keeps its first reason.
 */
export async function flagForReview(db: Executor, orderId: string, reason: string, source: string | null): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    with changed as (
      update orders set needs_review = true, review_reason = ${reason}
      where id = ${orderId} and not needs_review
      returning id
    ), recorded as (
      insert into order_events (order_id, dimension, from_state, to_state, reason, source)
      select id, 'review', 'clear', 'needs_review', ${reason}, ${source} from changed
    )
    select id from changed`.execute(db);
  return rows.length === 1;
}

/** The creation of an order, as the first row of its history. */
export async function recordCreated(db: Executor, orderId: string, source: string | null): Promise<void> {
  await db.insertInto('order_events').values([
    { order_id: orderId, dimension: 'payment', from_state: null, to_state: 'pending_payment', reason: 'order placed', source },
    { order_id: orderId, dimension: 'fulfilment', from_state: null, to_state: 'unfulfilled', reason: 'order placed', source },
  ]).modifyEnd(prepared).execute();
}
