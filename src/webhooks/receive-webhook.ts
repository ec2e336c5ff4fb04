import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/kysely.ts';
import { HttpError } from '../http/http-error.ts';
import { recordWebhookReject, type WebhookRejectReason } from '../metrics/webhook-rejects.ts';
import { storableText } from './storable-json.ts';
import { storeWebhookEvent, type WebhookProvider } from './webhook-inbox.ts';
import { eventIdentity, MAX_EVENT_TYPE_LENGTH, readWebhookPayload } from './webhook-payload.ts';
import { checkWebhookSignature } from './webhook-signature.ts';

export interface ReceivedWebhook {
  received: true;
  duplicate: boolean;
  /** Why the event was refused (stored, not processed); absent when accepted. */
  refused?: string;
}

export interface ReceiveOptions {
  db: Db;
  boss: Pick<PgBoss, 'send'> | undefined;
  provider: WebhookProvider;
  queue: string;
  /** Why the processor could not apply this event, or null when it can (the provider's shape check). */
  problemOf: (event: unknown) => string | null;
  log: FastifyBaseLogger;
}

/**
 * What both webhook routes do with a body whose signature is valid: read it
 * as storable JSON, check the event's shape, and store it (with its job), or
 * store it as refused. A refused event is still acknowledged: it is signed by
 * the provider, so it is no forgery, and it will never become well-formed; an
 * error status would only make the provider resend it (Stripe for three
 * days, then disable the endpoint; the supplier six times). It is counted in
 * tanktop_webhook_rejects_total{reason="malformed"} and kept for a person.
 *
 * An event without a usable id is stored under `sha256:<hex of the body>`: a
 * redelivery carries the same body, so it is stored once all the same.
 */
export async function receiveVerifiedWebhook(body: Buffer, options: ReceiveOptions): Promise<ReceivedWebhook> {
  const read = readWebhookPayload(body);
  const value = read.ok ? read.value : undefined;
  const refusedReason = read.ok ? options.problemOf(value) : read.reason;
  const identity = eventIdentity(value);
  const eventId = identity?.id ?? `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const type = identity?.type ?? typeOf(value);
  const faithful = read.ok && read.faithful;

  const stored = await storeWebhookEvent(options.db, options.boss, options.queue, {
    provider: options.provider, eventId, type, payload: value, rawBody: faithful ? null : body, refusedReason,
  });
  const details = { eventId, eventType: type, bytes: body.length, duplicate: !stored, webhookEventId: stored };
  if (refusedReason !== null) {
    recordWebhookReject(options.provider, 'malformed');
    options.log.warn({ ...details, refusedReason }, `${options.provider} webhook stored as refused: not an event the workflow can apply`);
    return { received: true, duplicate: !stored, refused: refusedReason };
  }
  options.log.info({ ...details, faithful }, `${options.provider} webhook received`);
  return { received: true, duplicate: !stored };
}

/** The type of an event whose identity is unusable, as far as it has one (the column is not null). */
function typeOf(value: unknown): string {
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  return typeof type === 'string' ? storableText(type).slice(0, MAX_EVENT_TYPE_LENGTH) : '';
}

export interface SignatureOptions {
  provider: WebhookProvider;
  /** The signature header as the provider spells it, e.g. `Stripe-Signature`. */
  header: string;
  secret: string;
  toleranceSeconds: number;
}

/**
 * The request's raw body when it is signed with the secret within the
 * window either side of now; else a 400 that names the header and says why
 * (the route's onError hook counts it by its code).
 */
export function signedBody(request: FastifyRequest, { provider, header, secret, toleranceSeconds }: SignatureOptions): Buffer {
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, 'empty_body', 'A webhook needs a body: the event, as JSON.');
  const value = request.headers[header.toLowerCase()];
  const check = checkWebhookSignature(typeof value === 'string' ? value : undefined, body, secret, toleranceSeconds);
  if (check === 'valid') return body;
  request.log.warn({ bytes: body.length, check }, `${provider} webhook refused: bad signature`);
  if (check === 'missing') throw new HttpError(400, 'missing_signature', `The ${header} header is missing: only signed events are accepted.`);
  if (check === 'stale') {
    throw new HttpError(400, 'stale_signature', `The ${header} timestamp is more than ${toleranceSeconds} seconds away from now: the event is refused as a possible replay.`);
  }
  throw new HttpError(400, 'invalid_signature', `The ${header} header does not match this body and the webhook secret.`);
}

/** The refusals of a webhook route by error code, counted in tanktop_webhook_rejects_total. */
const REJECT_REASONS: ReadonlyMap<unknown, WebhookRejectReason> = new Map([
  ['missing_signature', 'bad_signature'],
  ['invalid_signature', 'bad_signature'],
  ['stale_signature', 'stale'],
  ['FST_ERR_CTP_BODY_TOO_LARGE', 'too_large'],
  ['empty_body', 'bad_payload'],
]);

/**
 * A webhook route's plugin reads every body as raw bytes (the signature is
 * over them, never over re-serialised JSON) and counts each refusal in one
 * place, the size limit's too (Fastify raises it before the handler runs).
 */
export function installWebhookBody(app: FastifyInstance, provider: WebhookProvider): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.addHook('onError', async (_request, _reply, error) => {
    const reason = REJECT_REASONS.get((error as { code?: unknown }).code);
    if (reason) recordWebhookReject(provider, reason);
  });
}
