import type { Timer } from './clock.ts';
import type { OrderStatus, SupplierOrder } from './supplier-objects.ts';

/** What happens at the production step: the normal course, or what a fault decided at acceptance. */
export type Fate = 'ships' | 'on_hold' | 'failed' | 'cancelled';

export interface OrderRecord {
  order: SupplierOrder;
  /** Packages planned (1, or 2 for a split shipment). */
  packages: 1 | 2;
  fate: Fate;
  /** The next step the clock will take by itself, if any. */
  next: { status: OrderStatus; timer: Timer } | null;
}

/** The sandbox's orders, in memory, by the supplier's id and by our external_id. */
export function createStore() {
  const byId = new Map<string, OrderRecord>();
  const byExternalId = new Map<string, OrderRecord>();
  return {
    /** Orders accepted so far: every n-th is split when splitShipmentsEvery is n. */
    accepted: 0,
    add(record: OrderRecord): void {
      byId.set(record.order.id, record);
      byExternalId.set(record.order.external_id, record);
    },
    /** `@<external_id>` or the supplier's id, as in the API's paths. */
    find(reference: string): OrderRecord | undefined {
      return reference.startsWith('@') ? byExternalId.get(reference.slice(1)) : byId.get(reference);
    },
    byExternalId: (externalId: string) => byExternalId.get(externalId),
    all: () => [...byId.values()],
  };
}

export type SupplierStore = ReturnType<typeof createStore>;
