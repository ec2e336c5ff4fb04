import { Counter } from 'prom-client';

/**
 * Why a webhook was refused: the first four before anything was stored (an
 * error status), `malformed` for a signed event of a shape the workflow cannot
 * apply, stored as refused and acknowledged (webhook_events.refused_reason).
 */
export const WEBHOOK_REJECT_REASONS = ['bad_signature', 'stale', 'too_large', 'bad_payload', 'malformed'] as const;
export type WebhookRejectReason = (typeof WEBHOOK_REJECT_REASONS)[number];

/**
 * Refused webhooks, counted by the process that refused them (a counter
 * starts at zero with its process, as rate() and increase() expect). One
 * counter for the process, not one per app instance, so a route records a
 * refusal with a plain call; every app of the process serves it (see
 * process-metrics.ts). In no registry of its own: not prom-client's global one.
 */
export const webhookRejects = new Counter({
  name: 'tanktop_webhook_rejects_total',
  help: 'Webhooks refused, since the process started: before anything was stored (bad_signature: missing or forged, stale: further than the tolerance from now, too_large, bad_payload: empty), or signed but malformed (not an event the workflow can apply: stored as refused, acknowledged, never processed).',
  labelNames: ['provider', 'reason'] as const,
  registers: [],
});

// Present at 0 from the start, so the first refusal shows as an increase and not as a new series.
for (const reason of WEBHOOK_REJECT_REASONS) webhookRejects.inc({ provider: 'stripe', reason }, 0);

/** Counts one refused webhook; `provider` is the route's own constant (`stripe`, `supplier`), never request data. */
export function recordWebhookReject(provider: string, reason: WebhookRejectReason): void {
  webhookRejects.inc({ provider, reason });
}
