import {
  createWebhookDelivery as createSharedDelivery,
  type DeliveryAttempt,
  type DeliveryOptions,
  type DeliveryOutcome,
  type WebhookDelivery as SharedWebhookDelivery,
} from '../shared/webhook-delivery.ts';
import type { StripeEvent } from './stripe-objects.ts';

export type { DeliveryAttempt, DeliveryOptions, DeliveryOutcome };

export interface DeliveryReport {
  id: string;
  type: string;
  created: number;
  outcome: DeliveryOutcome;
  attempts: DeliveryAttempt[];
  event: StripeEvent;
}

/** The stripe-api routes ask `outcome(eventId)` to fill in an event's pending_webhooks. */
export type WebhookDelivery = SharedWebhookDelivery<StripeEvent, DeliveryReport>;

/** Webhook delivery as Stripe does it: the event's JSON, pretty-printed, signed in `Stripe-Signature`. */
export function createWebhookDelivery(options: DeliveryOptions): WebhookDelivery {
  return createSharedDelivery<StripeEvent, DeliveryReport>({
    ...options,
    signatureHeader: 'stripe-signature',
    userAgent: 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    // The event never changes, so every attempt serialises the same bytes; not kept, as a long run makes many events.
    body: (event) => () => JSON.stringify(event, null, 2),
    report: (event, { outcome, attempts }) => ({ id: event.id, type: event.type, created: event.created, outcome, attempts, event }),
    // As before the extraction: a resend of a held event sends a copy now, and the held delivery still waits for its release.
    resendReleasesHeld: false,
  });
}
