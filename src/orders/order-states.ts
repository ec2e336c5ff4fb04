/**
 * The states of an order and the transitions allowed between them, as data:
 * the state machine (order-state-machine.ts) applies them as compare-and-set
 * updates, the database's check constraints list the same states, and the
 * documentation reads them from here.
 *
 * An order has two independent dimensions: its payment and its fulfilment
 * (the supplier workflow). A transition not listed here is refused as a no-op,
 * so a late or reordered event can never move an order backwards.
 */

export const PAYMENT_STATES = [
  'pending_payment',
  'payment_processing',
  'paid',
  'payment_failed',
  'expired',
  'cancelled',
  'refund_pending',
  'refunded',
] as const;
export type PaymentState = (typeof PAYMENT_STATES)[number];

export const FULFILMENT_STATES = [
  'unfulfilled',
  'submitted',
  'supplier_failed',
  'supplier_rejected',
  'in_production',
  'partially_shipped',
  'shipped',
  'delivered',
  'cancelled',
] as const;
export type FulfilmentState = (typeof FULFILMENT_STATES)[number];

export type Dimension = 'payment' | 'fulfilment';

/** to-state → the states it may be reached from. */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export const PAYMENT_TRANSITIONS: TransitionTable<PaymentState> = {
  // A retry after a decline or a failed session start opens a new checkout session.
  pending_payment: ['payment_failed'],
  // An asynchronous payment method was accepted but the money is not there yet.
  payment_processing: ['pending_payment', 'payment_failed'],
  // A decline leaves the checkout session open: the customer may pay on it after all.
  paid: ['pending_payment', 'payment_processing', 'payment_failed'],
  payment_failed: ['pending_payment', 'payment_processing'],
  expired: ['pending_payment', 'payment_failed'],
  cancelled: ['pending_payment', 'payment_failed'],
  // Money that must go back: a payment that arrived after expiry or cancellation, or a refund of a paid order.
  refund_pending: ['paid', 'expired', 'cancelled'],
  // The gateway confirms the refund (ours, or one made in its dashboard).
  refunded: ['refund_pending', 'paid'],
};

export const FULFILMENT_TRANSITIONS: TransitionTable<FulfilmentState> = {
  unfulfilled: [],
  submitted: ['unfulfilled', 'supplier_failed', 'supplier_rejected'],
  // The supplier could not be reached (retryable) or refused the order. An order
  // is submitted once the supplier accepted it, so these come from unfulfilled
  // (the first submission) too; a resubmitted failed order may then be refused.
  supplier_failed: ['unfulfilled', 'submitted'],
  supplier_rejected: ['unfulfilled', 'submitted', 'supplier_failed'],
  in_production: ['submitted'],
  partially_shipped: ['in_production'],
  shipped: ['in_production', 'partially_shipped'],
  delivered: ['shipped'],
  // Before anything ships: an operator (not once in production), or the supplier cancelling or failing it.
  cancelled: ['unfulfilled', 'submitted', 'supplier_failed', 'supplier_rejected', 'in_production'],
};

export interface DimensionSpec<S extends string> {
  readonly dimension: Dimension;
  readonly column: 'payment_state' | 'fulfilment_state';
  readonly states: readonly S[];
  readonly transitions: TransitionTable<S>;
}

export const PAYMENT: DimensionSpec<PaymentState> = {
  dimension: 'payment', column: 'payment_state', states: PAYMENT_STATES, transitions: PAYMENT_TRANSITIONS,
};
export const FULFILMENT: DimensionSpec<FulfilmentState> = {
  dimension: 'fulfilment', column: 'fulfilment_state', states: FULFILMENT_STATES, transitions: FULFILMENT_TRANSITIONS,
};

/** Whether `from → to` is an allowed transition of the dimension. */
export function isAllowed<S extends string>(spec: DimensionSpec<S>, from: S, to: S): boolean {
  return spec.transitions[to].includes(from);
}

/** Every allowed transition as [from, to] pairs (for documentation and tests). */
export function allTransitions<S extends string>(spec: DimensionSpec<S>): [S, S][] {
  return spec.states.flatMap((to) => spec.transitions[to].map((from): [S, S] => [from, to]));
}
