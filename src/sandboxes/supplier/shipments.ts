import { randomId, trackingNumber } from './supplier-ids.ts';
import type { OrderItem, Shipment, ShipmentItem } from './supplier-objects.ts';

const CARRIERS = [
  { carrier: 'DHL', service: 'DHL Paket' },
  { carrier: 'UPS', service: 'UPS Standard' },
] as const;

/** Two packages need two units: two lines, or one line of two or more. */
export function canSplit(items: readonly OrderItem[]): boolean {
  return items.length >= 2 || (items[0]?.quantity ?? 0) >= 2;
}

/**
 * What goes in each package. Split in two, the first package takes the
 * first half of the lines (rounded up), or, for a single line, half its
 * quantity (rounded up); the second takes the rest.
 */
export function packageContents(items: readonly OrderItem[], packages: 1 | 2): ShipmentItem[][] {
  const all = items.map(({ sku, quantity }) => ({ sku, quantity }));
  if (packages === 1 || !canSplit(items)) return [all];
  if (all.length >= 2) {
    const half = Math.ceil(all.length / 2);
    return [all.slice(0, half), all.slice(half)];
  }
  const [{ sku, quantity }] = all as [ShipmentItem];
  const first = Math.ceil(quantity / 2);
  return [[{ sku, quantity: first }], [{ sku, quantity: quantity - first }]];
}

/** A package handed to a carrier now; its tracking page lives under a reserved example domain. */
export function newShipment(index: number, items: ShipmentItem[], now: string): Shipment {
  const { carrier, service } = CARRIERS[index % CARRIERS.length] as (typeof CARRIERS)[number];
  const tracking = trackingNumber();
  return {
    id: randomId('shp'),
    carrier,
    service,
    tracking_number: tracking,
    tracking_url: `https://tracking.example.com/${carrier.toLowerCase()}/${tracking}`,
    items,
    shipped_at: now,
    delivered_at: null,
  };
}
