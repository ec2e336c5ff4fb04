import type { FastifyPluginAsync } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import { WEBHOOK_REJECT_REASONS, webhookRejects } from '../metrics/webhook-rejects.ts';
import { installWebhookBody, receiveVerifiedWebhook, signedBody } from '../webhooks/receive-webhook.ts';
import { supplierEventProblem } from './supplier-api.types.ts';
import { SupplierQueues } from './supplier-queues.ts';

/** The supplier's events carry one order (a few KB); anything near this is not one of them. */
export const SUPPLIER_WEBHOOK_BODY_LIMIT = 256 * 1024;
/** A signature older (or newer) than this is refused: a replayed delivery. */
export const SUPPLIER_WEBHOOK_TOLERANCE_SECONDS = 300;

// Present at 0 from the start, as the gateway's are.
for (const reason of WEBHOOK_REJECT_REASONS) webhookRejects.inc({ provider: 'supplier', reason }, 0);

export interface SupplierWebhookOptions {
  db: Db;
  config: Config;
  /** Enqueues the processing job; a process without one stores the event and the poll job enqueues it later. */
  boss?: Pick<PgBoss, 'send'>;
}

/**
 * POST /webhooks/supplier, the supplier's inbox (the gateway's twin). Public:
 * the signature is the supplier's credential. The raw bytes are checked
 * against Supplier-Signature; a missing, forged or stale signature is a 400
 * and nothing is stored. A verified event is stored in webhook_events
 * (provider 'supplier', unique per event id) with its supplier__process_event
 * job in one transaction, then answered 200, also when it was stored already
 * (delivery is at least once). A 500 only when it could not be stored, which
 * the supplier should resend. A signed event the processor could not apply
 * (supplierEventProblem) is stored as refused and answered 200 with `refused`
 * (receive-webhook.ts): the supplier retries any non-2xx, and it would never
 * become applicable.
 *
 * Encapsulated: the raw-body parser and the size limit apply to this route only.
 */
export const supplierWebhookRoutes: FastifyPluginAsync<SupplierWebhookOptions> = async (app, { db, config, boss }) => {
  installWebhookBody(app, 'supplier');
  app.post('/webhooks/supplier', { bodyLimit: SUPPLIER_WEBHOOK_BODY_LIMIT, config: { public: true } }, async (request, reply) => {
    const body = signedBody(request, { provider: 'supplier', header: 'Supplier-Signature', secret: config.supplier.webhookSecret, toleranceSeconds: SUPPLIER_WEBHOOK_TOLERANCE_SECONDS });
    const received = await receiveVerifiedWebhook(body, {
      db, boss, provider: 'supplier', queue: SupplierQueues.processEvent, problemOf: supplierEventProblem, log: request.log,
    });
    return reply.status(200).send(received);
  });
};
