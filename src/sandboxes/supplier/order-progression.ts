import { takeFault, type Faults } from './faults.ts';
import type { OrderRequest } from './order-request.ts';
import { canSplit, newShipment, packageContents } from './shipments.ts';
import type { Supplier } from './supplier-context.ts';
import { SupplierApiError } from './supplier-error.ts';
import { randomId } from './supplier-ids.ts';
import type { EventType, OrderStatus, SupplierOrder } from './supplier-objects.ts';
import type { Fate, OrderRecord } from './supplier-store.ts';

/** The sentences an order's status_reason carries. */
export const REASONS = Object.freeze({
  on_hold: 'On hold: a print file needs checking before production.',
  failed: 'Production failed: the print file could not be processed.',
  cancelledBySupplier: 'Cancelled by the supplier: an item has been discontinued.',
  cancelledByCustomer: 'Cancelled at your request.',
});

/** From which statuses the control API may move an order to each status (walking the steps between). */
const ADVANCE_FROM: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = Object.freeze({
  pending: [],
  in_production: ['pending', 'on_hold'],
  on_hold: ['pending', 'in_production'],
  partially_shipped: ['pending', 'on_hold', 'in_production'],
  shipped: ['pending', 'on_hold', 'in_production', 'partially_shipped'],
  delivered: ['pending', 'on_hold', 'in_production', 'partially_shipped', 'shipped'],
  cancelled: ['pending', 'on_hold', 'in_production'],
  failed: ['pending', 'on_hold', 'in_production'],
});

/**
 * A new order: pending, announced with order.accepted, and on the clock
 * towards production. Its fate at the production step and its packages are
 * decided now (faults and splitShipmentsEvery count orders, not events).
 */
export function acceptOrder(supplier: Supplier, request: OrderRequest): OrderRecord {
  const { store, settings } = supplier;
  const now = new Date().toISOString();
  store.accepted++;
  const every = settings.splitShipmentsEvery;
  const record: OrderRecord = {
    order: {
      id: randomId('ord'), external_id: request.externalId, status: 'pending', status_reason: null,
      recipient: request.recipient, items: request.items, shipments: [], created: now, updated: now,
    },
    packages: every > 0 && store.accepted % every === 0 && canSplit(request.items) ? 2 : 1,
    fate: fateFromFaults(supplier.faults),
    next: null,
  };
  store.add(record);
  supplier.emit('order.accepted', record);
  scheduleNext(supplier, record);
  return record;
}

/** Our cancel request (the API): allowed while pending or on hold; a second one changes nothing. */
export function cancelOrder(supplier: Supplier, record: OrderRecord): void {
  const { order } = record;
  if (order.status === 'cancelled') return;
  if (order.status !== 'pending' && order.status !== 'on_hold') {
    throw new SupplierApiError(409, 'not_cancellable',
      `Order ${order.id} is ${order.status}: an order can be cancelled only while pending or on_hold.`,
      { order_id: order.id, status: order.status });
  }
  stopClock(supplier, record);
  setStatus(supplier, record, 'cancelled', REASONS.cancelledByCustomer, 'order.cancelled');
}

/**
 * Moves an order forward by hand (the control API), through every step in
 * between with its webhook, then lets the clock carry on from there.
 */
export function advanceOrder(supplier: Supplier, record: OrderRecord, to: OrderStatus): void {
  const from = record.order.status;
  if (!ADVANCE_FROM[to].includes(from)) {
    throw new SupplierApiError(409, 'invalid_transition', `An order that is ${from} cannot be advanced to ${to}.`, { status: from });
  }
  if (to === 'partially_shipped') {
    if (!canSplit(record.order.items)) throw new SupplierApiError(409, 'invalid_transition', 'A single unit ships in one package: it cannot be partially shipped.', { status: from });
    record.packages = 2;
  }
  stopClock(supplier, record);
  switch (to) {
    case 'on_hold':
      setStatus(supplier, record, 'on_hold', REASONS.on_hold, 'order.on_hold');
      break;
    case 'cancelled':
      setStatus(supplier, record, 'cancelled', REASONS.cancelledBySupplier, 'order.cancelled');
      break;
    case 'failed':
      setStatus(supplier, record, 'failed', REASONS.failed, 'order.failed');
      break;
    default:
      walkTo(supplier, record, to);
  }
  scheduleNext(supplier, record);
}

/** Chooses how many packages an order that has not shipped yet goes out in. */
export function planPackages(record: OrderRecord, packages: 1 | 2): void {
  if (record.order.shipments.length > 0) throw new SupplierApiError(409, 'invalid_transition', 'The order has begun shipping: its packages are fixed.', { status: record.order.status });
  if (packages === 2 && !canSplit(record.order.items)) throw new SupplierApiError(409, 'invalid_transition', 'A single unit ships in one package.', { status: record.order.status });
  record.packages = packages;
}

/** The next forward step towards in_production, partially_shipped, shipped or delivered, until there. */
function walkTo(supplier: Supplier, record: OrderRecord, to: OrderStatus): void {
  const { order } = record;
  if (order.status === 'pending' || order.status === 'on_hold') setStatus(supplier, record, 'in_production', null, 'order.in_production');
  if (to === 'in_production') return;
  if (order.status === 'in_production') shipPackage(supplier, record);
  if (to === 'partially_shipped') return;
  while (order.status === 'partially_shipped') shipPackage(supplier, record);
  if (to === 'delivered') deliver(supplier, record);
}

/** Puts the order's next step on the clock, from where it stands now (none for on_hold and final statuses). */
function scheduleNext(supplier: Supplier, record: OrderRecord): void {
  const { delaysMs } = supplier.settings;
  const step = nextStep(record);
  if (!step) return;
  const ms = step.after === 'production' ? delaysMs.production : step.after === 'shipping' ? delaysMs.shipping : delaysMs.delivery;
  const timer = supplier.clock.after(ms, () => {
    record.next = null;
    step.run(supplier, record);
    scheduleNext(supplier, record);
  });
  record.next = { status: step.status, timer };
}

interface Step {
  status: OrderStatus;
  after: keyof Supplier['settings']['delaysMs'];
  run: (supplier: Supplier, record: OrderRecord) => void;
}

function nextStep(record: OrderRecord): Step | undefined {
  const { order } = record;
  switch (order.status) {
    case 'pending':
      return productionStep(record.fate);
    case 'in_production':
    case 'partially_shipped': {
      const last = order.shipments.length + 1 >= packageContents(order.items, record.packages).length;
      return { status: last ? 'shipped' : 'partially_shipped', after: 'shipping', run: shipPackage };
    }
    case 'shipped':
      return { status: 'delivered', after: 'delivery', run: deliver };
    default:
      return undefined;
  }
}

function productionStep(fate: Fate): Step {
  switch (fate) {
    case 'on_hold':
      return { status: 'on_hold', after: 'production', run: (s, r) => setStatus(s, r, 'on_hold', REASONS.on_hold, 'order.on_hold') };
    case 'failed':
      return { status: 'failed', after: 'production', run: (s, r) => setStatus(s, r, 'failed', REASONS.failed, 'order.failed') };
    case 'cancelled':
      return { status: 'cancelled', after: 'production', run: (s, r) => setStatus(s, r, 'cancelled', REASONS.cancelledBySupplier, 'order.cancelled') };
    default:
      return { status: 'in_production', after: 'production', run: (s, r) => setStatus(s, r, 'in_production', null, 'order.in_production') };
  }
}

/**
 * Hands the next package to a carrier: order.shipment_created with it, and
 * order.shipped once every item is in a package. Both carry the order as it
 * is after the change (partially_shipped, or shipped for the last package).
 */
function shipPackage(supplier: Supplier, record: OrderRecord): void {
  const { order } = record;
  const contents = packageContents(order.items, record.packages);
  const index = order.shipments.length;
  const now = stamp(order);
  const shipment = newShipment(index, contents[index] ?? [], now);
  order.shipments.push(shipment);
  const complete = order.shipments.length >= contents.length;
  order.status = complete ? 'shipped' : 'partially_shipped';
  order.status_reason = null;
  order.updated = now;
  supplier.emit('order.shipment_created', record, shipment);
  if (complete) supplier.emit('order.shipped', record);
}

function deliver(supplier: Supplier, record: OrderRecord): void {
  const now = stamp(record.order);
  for (const shipment of record.order.shipments) shipment.delivered_at ??= now;
  setStatus(supplier, record, 'delivered', null, 'order.delivered', now);
}

function setStatus(supplier: Supplier, record: OrderRecord, status: OrderStatus, reason: string | null, type: EventType, now = stamp(record.order)): void {
  record.order.status = status;
  record.order.status_reason = reason;
  record.order.updated = now;
  supplier.emit(type, record);
}

/**
 * The time of a change: now, but always after the order's last change, so
 * `updated` strictly increases and a receiver can order webhooks by it
 * (steps at delay 0 often fall in the same millisecond).
 */
function stamp(order: SupplierOrder): string {
  return new Date(Math.max(Date.now(), Date.parse(order.updated) + 1)).toISOString();
}

function stopClock(supplier: Supplier, record: OrderRecord): void {
  if (record.next) supplier.clock.cancel(record.next.timer);
  record.next = null;
}

/** One order's fate is decided by at most one fault; cancelling beats failing beats holding. */
function fateFromFaults(faults: Faults): Fate {
  if (takeFault(faults, 'cancelAfterAcceptance')) return 'cancelled';
  if (takeFault(faults, 'failAfterAcceptance')) return 'failed';
  if (takeFault(faults, 'holdNext')) return 'on_hold';
  return 'ships';
}
