import type { Logger } from '../../logger.ts';
import { subscribedTo } from './event-types.ts';
import { recordEvent, type Emit, type Origin } from './events.ts';
import { noFaults, takeFault, type Faults } from './faults.ts';
import { createStore, type GatewayStore } from './gateway-store.ts';
import { createIdempotencyMemory, type IdempotencyMemory } from './idempotency.ts';
import { declineSession, paySession, type PaymentOutcome, type PaymentOverride } from './payments.ts';
import type { CheckoutSession, PaymentIntent } from './stripe-objects.ts';
import { createWebhookDelivery, type WebhookDelivery } from './webhook-delivery.ts';

export interface ApiRequestRecord {
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
  /** The answer was a replay of the first request with this idempotency key. */
  replayed: boolean;
  requestId: string;
  at: string;
}

/** The most recent API calls kept for `GET /_sandbox/requests`. */
const REQUEST_LOG_SIZE = 20_000;

/** Everything the routes share: the state, the settings the control API changes, and the webhook delivery. */
export interface Gateway {
  readonly store: GatewayStore;
  readonly faults: Faults;
  /**
   * webhookUrl: one endpoint, or several (each delivery attempt goes to the
   * next, round-robin, as a load balancer in front of several web processes
   * would send them), or null for none.
   */
  readonly settings: { webhookUrl: WebhookTarget; publicUrl: string; enabledEvents: readonly string[] };
  readonly delivery: WebhookDelivery;
  readonly idempotency: IdempotencyMemory;
  readonly requests: ApiRequestRecord[];
  readonly emit: Emit;
  readonly log: Logger;
}

export type WebhookTarget = string | readonly string[] | null;

export interface GatewayOptions {
  publicUrl: string;
  webhookUrl: string | null;
  webhookSecret: string;
  retryDelaysMs: readonly number[];
  webhookConcurrency: number;
  /** Event types delivered to the endpoint (`*`: all), as a Stripe endpoint's enabled_events. */
  enabledEvents: readonly string[];
  log: Logger;
}

export function createGateway(options: GatewayOptions): Gateway {
  const store = createStore();
  const faults = noFaults();
  const settings: Gateway['settings'] = { webhookUrl: options.webhookUrl, publicUrl: options.publicUrl, enabledEvents: options.enabledEvents };
  let turn = 0;
  const delivery = createWebhookDelivery({
    secret: options.webhookSecret,
    url: () => (typeof settings.webhookUrl === 'string' || settings.webhookUrl === null ? settings.webhookUrl : settings.webhookUrl[turn++ % settings.webhookUrl.length]!),
    hasUrl: () => settings.webhookUrl !== null,
    retryDelaysMs: options.retryDelaysMs,
    concurrency: options.webhookConcurrency,
    faults,
    log: options.log,
  });
  // Like Stripe, every event is recorded; the endpoint receives only the types it is subscribed to.
  const emit: Emit = (type, object, origin) => {
    const subscribed = subscribedTo(settings.enabledEvents, type);
    const event = recordEvent(store, type, object, origin, subscribed && settings.webhookUrl !== null ? 1 : 0);
    if (subscribed) delivery.submit(event);
    return event;
  };
  return { store, faults, settings, delivery, idempotency: createIdempotencyMemory(), requests: [], emit, log: options.log };
}

export function recordRequest(gateway: Gateway, entry: ApiRequestRecord): void {
  gateway.requests.push(entry);
  if (gateway.requests.length > REQUEST_LOG_SIZE) gateway.requests.splice(0, gateway.requests.length - REQUEST_LOG_SIZE);
}

/**
 * The customer presses Pay (on the page or through the control API): it pays,
 * unless a `declineNext` fault says this card is declined.
 */
export function attemptPayment(gateway: Gateway, session: CheckoutSession, override: PaymentOverride, origin: Origin): { outcome: PaymentOutcome; paymentIntent: PaymentIntent } {
  const { store, emit, faults } = gateway;
  if (session.status === 'open' && takeFault(faults, 'declineNext')) {
    return { outcome: 'declined', paymentIntent: declineSession(store, emit, session, origin) };
  }
  return { outcome: 'paid', paymentIntent: paySession(store, emit, session, override, origin) };
}
