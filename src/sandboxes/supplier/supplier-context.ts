import type { Logger } from '../../logger.ts';
import { createCatalogue, type Catalogue } from './catalogue.ts';
import { createClock, type Clock } from './clock.ts';
import { noFaults, type Faults } from './faults.ts';
import { createHeldResponses, type HeldResponses } from './held-responses.ts';
import { createIdempotencyMemory, type IdempotencyMemory } from './idempotency.ts';
import { createRequestLog, type RequestLog } from './request-log.ts';
import { randomId } from './supplier-ids.ts';
import { snapshot, type EventType, type Shipment, type SupplierEvent } from './supplier-objects.ts';
import { createStore, type OrderRecord, type SupplierStore } from './supplier-store.ts';
import { createWebhookDelivery, type WebhookDelivery } from './webhook-delivery.ts';

export interface DelaysMs {
  /** pending → in_production (or on_hold, failed, cancelled when a fault decided so). */
  production: number;
  /** in_production → first package shipped, and between the two packages of a split order. */
  shipping: number;
  /** shipped → delivered. */
  delivery: number;
}

export interface SupplierSettings {
  webhookUrl: string | null;
  delaysMs: DelaysMs;
  /** Every n-th order ships in two packages (0: none). */
  splitShipmentsEvery: number;
}

/** Everything the routes share: state, settings the control API changes, the clock and the webhooks. */
export interface Supplier {
  readonly apiToken: string;
  readonly store: SupplierStore;
  readonly settings: SupplierSettings;
  readonly faults: Faults;
  readonly catalogue: Catalogue;
  readonly clock: Clock;
  readonly delivery: WebhookDelivery;
  readonly idempotency: IdempotencyMemory;
  readonly requests: RequestLog;
  readonly held: HeldResponses;
  /** Sends a signed webhook with a snapshot of the order as it is now (and the shipment, if given). */
  emit(type: EventType, record: OrderRecord, shipment?: Shipment): SupplierEvent;
  readonly log: Logger;
}

export interface SupplierOptions {
  apiToken: string;
  webhookUrl: string | null;
  webhookSecret: string;
  delaysMs: DelaysMs;
  splitShipmentsEvery: number;
  speed: number;
  catalogue: readonly string[] | undefined;
  retryDelaysMs: readonly number[];
  webhookConcurrency: number;
  log: Logger;
}

export function createSupplier(options: SupplierOptions): Supplier {
  const faults = noFaults();
  const settings: SupplierSettings = { webhookUrl: options.webhookUrl, delaysMs: { ...options.delaysMs }, splitShipmentsEvery: options.splitShipmentsEvery };
  const delivery = createWebhookDelivery({
    secret: options.webhookSecret,
    url: () => settings.webhookUrl,
    retryDelaysMs: options.retryDelaysMs,
    concurrency: options.webhookConcurrency,
    faults,
    log: options.log,
  });
  return {
    apiToken: options.apiToken,
    store: createStore(),
    settings,
    faults,
    catalogue: createCatalogue(options.catalogue),
    clock: createClock(options.speed),
    delivery,
    idempotency: createIdempotencyMemory(),
    requests: createRequestLog(),
    held: createHeldResponses(),
    emit(type, record, shipment) {
      const event: SupplierEvent = {
        id: randomId('evt', 24),
        type,
        created: new Date().toISOString(),
        data: shipment ? { order: snapshot(record.order), shipment: structuredClone(shipment) } : { order: snapshot(record.order) },
      };
      delivery.submit(event);
      return event;
    },
    log: options.log,
  };
}
