import type { FulfilmentState } from '../orders/order-states.ts';
import type { SupplierOrder } from './supplier-api.types.ts';

/** The fulfilment states the supplier's news moves an order through, in order. */
export const FORWARD_STATES = ['submitted', 'in_production', 'partially_shipped', 'shipped', 'delivered'] as const;
export type ForwardState = (typeof FORWARD_STATES)[number];

/** Where an order stands before the supplier has accepted it. */
const BEFORE_SUBMITTED: readonly FulfilmentState[] = ['unfulfilled', 'supplier_failed', 'supplier_rejected'];

const rank = (state: FulfilmentState): number => (FORWARD_STATES as readonly string[]).indexOf(state);

/**
 * The transitions, one allowed step at a time, from `current` to `target`:
 * webhooks arrive in any order and polling may skip several, so an order that
 * is told "shipped" while still submitted walks through in_production first.
 * Never backwards (a late "shipped" after "delivered" is no step at all), and
 * through partially_shipped only when that is where it stops.
 */
export function fulfilmentPath(current: FulfilmentState, target: ForwardState): FulfilmentState[] {
  if (current === 'cancelled') return [];
  const steps: FulfilmentState[] = [];
  let at: FulfilmentState = current;
  if (BEFORE_SUBMITTED.includes(at)) {
    steps.push('submitted');
    at = 'submitted';
  }
  if (rank(target) <= rank(at)) return steps;
  if (at === 'submitted') {
    steps.push('in_production');
    at = 'in_production';
  }
  if (target === 'in_production') return steps;
  if (target === 'partially_shipped') return at === 'in_production' ? [...steps, 'partially_shipped'] : steps;
  if (at !== 'shipped') steps.push('shipped');
  if (target === 'delivered') steps.push('delivered');
  return steps;
}

/** What the supplier's status says about our fulfilment state (cancelled and failed are handled apart). */
export function targetOfStatus(status: SupplierOrder['status']): ForwardState {
  switch (status) {
    case 'in_production':
      return 'in_production';
    case 'partially_shipped':
      return 'partially_shipped';
    case 'shipped':
      return 'shipped';
    case 'delivered':
      return 'delivered';
    default:
      // pending, on_hold: accepted, not in production (yet, or any more).
      return 'submitted';
  }
}

/** The further of two targets. */
export function furthest(a: ForwardState, b: ForwardState): ForwardState {
  return rank(a) >= rank(b) ? a : b;
}

/**
 * Whether the packages recorded so far hold every unit of the order (summed
 * by SKU over every shipment): then it is shipped, else partially shipped.
 */
export function coversAllItems(items: readonly { sku: string; quantity: number }[], shipped: readonly { sku: string; quantity: number }[]): boolean {
  const sent = new Map<string, number>();
  for (const { sku, quantity } of shipped) sent.set(sku, (sent.get(sku) ?? 0) + quantity);
  return items.every(({ sku, quantity }) => (sent.get(sku) ?? 0) >= quantity);
}
