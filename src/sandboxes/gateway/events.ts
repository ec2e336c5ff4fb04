import { FALLBACK_API_VERSION, nowSeconds, type GatewayStore } from './gateway-store.ts';
import { stripeId } from './stripe-ids.ts';
import type { EventObject, StripeEvent } from './stripe-objects.ts';

/** The API request behind a change; null for the customer's actions on the hosted page and for timers. */
export interface Origin {
  requestId: string | null;
  idempotencyKey: string | null;
}

export const NO_REQUEST: Origin = Object.freeze({ requestId: null, idempotencyKey: null });

/** Records an event of a change and sends it to the webhook endpoint. */
export type Emit = (type: string, object: EventObject, origin: Origin) => StripeEvent;

/**
 * An event carries a snapshot of the object as it is now, as Stripe's do: a
 * later change does not rewrite what an earlier event said.
 */
export function recordEvent(store: GatewayStore, type: string, object: EventObject, origin: Origin, pendingWebhooks: number): StripeEvent {
  const event: StripeEvent = {
    id: stripeId('evt'),
    object: 'event',
    api_version: store.apiVersion ?? FALLBACK_API_VERSION,
    created: nowSeconds(),
    data: { object: structuredClone(object) },
    livemode: false,
    pending_webhooks: pendingWebhooks,
    request: { id: origin.requestId, idempotency_key: origin.idempotencyKey },
    type,
  };
  store.events.set(event.id, event);
  return event;
}
