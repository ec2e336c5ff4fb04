import type { FastifyPluginAsync } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import { installWebhookBody, receiveVerifiedWebhook, signedBody } from '../webhooks/receive-webhook.ts';
import { Queues } from './order-queues.ts';
import { stripeEventProblem } from './stripe-event-shape.ts';

/** Stripe's events are a few KB; anything near this is not one of them. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;
/** Stripe's own default: a signature further than this from now, either way, is refused (a replayed request). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export interface StripeWebhookOptions {
  db: Db;
  config: Config;
  /** Enqueues the processing job; a process without one stores the event and the reconcile job enqueues it later. */
  boss?: Pick<PgBoss, 'send'>;
}

/**
 * POST /webhooks/stripe, the gateway's inbox. Public (the gateway has no
 * session; the signature is its credential). The raw bytes are verified
 * against Stripe-Signature, never re-serialised JSON, with the check the
 * supplier's route uses (src/webhooks/webhook-signature.ts): a missing or
 * forged signature, or one dated more than 300 s from now either way, is a 400
 * and nothing is stored. A verified event is stored and its processing job
 * enqueued in one transaction, then answered 200, also when it was already
 * stored (the gateway delivers at least once): the work happens in the job, so
 * the gateway never waits for it and never sees our errors as a reason to
 * resend, except a 500 when the event could not be stored, which it should
 * resend. A signed event the processor could not apply (stripe-event-shape.ts)
 * is stored as refused and answered 200 with `refused` (receive-webhook.ts).
 *
 * Encapsulated: the raw-body parser and the size limit apply to this route only.
 */
export const stripeWebhookRoutes: FastifyPluginAsync<StripeWebhookOptions> = async (app, { db, config, boss }) => {
  installWebhookBody(app, 'stripe');
  app.post('/webhooks/stripe', { bodyLimit: WEBHOOK_BODY_LIMIT, config: { public: true } }, async (request, reply) => {
    const body = signedBody(request, { provider: 'stripe', header: 'Stripe-Signature', secret: config.stripe.webhookSecret, toleranceSeconds: WEBHOOK_TOLERANCE_SECONDS });
    const received = await receiveVerifiedWebhook(body, {
      db, boss, provider: 'stripe', queue: Queues.processStripeEvent, problemOf: stripeEventProblem, log: request.log,
    });
    return reply.status(200).send(received);
  });
};
