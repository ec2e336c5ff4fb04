import {
  createWebhookDelivery as createSharedDelivery,
  type DeliveryAttempt,
  type DeliveryOptions,
  type DeliveryOutcome,
  type WebhookDelivery as SharedWebhookDelivery,
} from '../shared/webhook-delivery.ts';
import type { SupplierEvent } from './supplier-objects.ts';

export type { DeliveryAttempt, DeliveryOptions, DeliveryOutcome };

export interface DeliveryReport {
  id: string;
  type: string;
  created: string;
  externalId: string;
  outcome: DeliveryOutcome;
  attempts: DeliveryAttempt[];
  event: SupplierEvent;
}

export type WebhookDelivery = Omit<SharedWebhookDelivery<SupplierEvent, DeliveryReport>, 'outcome'>;

/** The supplier's webhooks: the event's compact JSON, signed in `Supplier-Signature`. */
export function createWebhookDelivery(options: DeliveryOptions): WebhookDelivery {
  return createSharedDelivery<SupplierEvent, DeliveryReport>({
    ...options,
    signatureHeader: 'supplier-signature',
    userAgent: 'TanktopSupplierSandbox/1.0',
    body: (event) => {
      // Serialised once: every attempt signs and sends exactly these bytes.
      const body = JSON.stringify(event);
      return () => body;
    },
    report: (event, { outcome, attempts }) => ({
      id: event.id, type: event.type, created: event.created, externalId: event.data.order.external_id,
      outcome, attempts, event,
    }),
    // A resend of a held event sends it now and stops holding it, so a later release does not send it again.
    resendReleasesHeld: true,
  });
}
