import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { Logger } from '../../logger.ts';
import { expireDueSessions } from './checkout-sessions.ts';
import { controlRoutes } from './control.routes.ts';
import { createGateway } from './gateway-context.ts';
import { hostedPageRoutes } from './hosted-page.routes.ts';
import { unrecognizedUrl } from './stripe-error.ts';
import { requestId } from './stripe-ids.ts';
import { stripeApiRoutes } from './stripe-api.routes.ts';

export interface GatewaySandboxOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** 0 (the default) takes any free port. */
  port?: number;
  /** The base URL browsers use for the hosted page (default: the listening URL). */
  publicUrl?: string;
  /** Where events are POSTed; may also be set later through `POST /_sandbox/config`. */
  webhookUrl?: string;
  /** The endpoint's signing secret (`whsec_…`), as the shop's STRIPE_WEBHOOK_SECRET. */
  webhookSecret: string;
  log?: Logger;
  /** Waits before the 2nd, 3rd… delivery attempt of an event the receiver did not accept. */
  webhookRetryDelaysMs?: number[];
  /**
   * Webhook deliveries in flight at once (default 1, so events arrive in the
   * order they happened); a benchmark whose receiver is slow may raise it.
   */
  webhookConcurrency?: number;
  /**
   * The event types the webhook endpoint is subscribed to, as a Stripe
   * endpoint's `enabled_events` (default `['*']`, every type). Every event is
   * still recorded (GET /v1/events lists it); only these are delivered.
   */
  enabledEvents?: readonly string[];
}

export interface GatewaySandbox {
  /** The base URL it listens on, e.g. http://127.0.0.1:12111 (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = Object.freeze([1000, 2000, 5000, 10_000, 30_000]);
const EXPIRY_SWEEP_MS = 500;

/**
 * The payment gateway sandbox: a Fastify server of its own speaking the part
 * of Stripe's API the shop uses (the official stripe package works against it
 * with `host`, `port`, `protocol: 'http'`), a hosted checkout page, signed
 * webhooks, and a control API for tests (/_sandbox/). State lives in memory.
 */
export async function startGatewaySandbox(options: GatewaySandboxOptions): Promise<GatewaySandbox> {
  if (!options.webhookSecret.startsWith('whsec_')) throw new Error('webhookSecret must be a Stripe webhook signing secret (whsec_…)');
  if (options.webhookRetryDelaysMs?.some((ms) => !Number.isFinite(ms) || ms < 0)) throw new Error('webhookRetryDelaysMs must be durations of 0 ms or more');
  const log = options.log ?? pino({ level: 'silent' });
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // A benchmark makes thousands of calls: the API logs each one at debug level itself.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => requestId(),
    // Checkout Session ids are 66 characters: room above Fastify's default of 100 for longer ones.
    routerOptions: { maxParamLength: 200 },
  });
  // Stripe's bodies (and the hosted page's forms) are URL-encoded with brackets: decoded per endpoint.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  // The public URL is known once listening (port 0): the gateway's settings take it then.
  const gateway = createGateway({
    publicUrl: '',
    webhookUrl: options.webhookUrl ?? null,
    webhookSecret: options.webhookSecret,
    retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    webhookConcurrency: options.webhookConcurrency ?? 1,
    enabledEvents: options.enabledEvents ?? ['*'],
    log,
  });
  await app.register(stripeApiRoutes(gateway), { prefix: '/v1' });
  await app.register(controlRoutes(gateway), { prefix: '/_sandbox' });
  await app.register(await hostedPageRoutes(gateway));
  app.setNotFoundHandler((request, reply) => reply.code(404).send(unrecognizedUrl(request.method, request.url.split('?')[0] ?? '').body()));

  // Sessions expire on the clock, as on Stripe (which takes up to a few minutes; this takes under a second).
  const sweep = setInterval(() => expireDueSessions(gateway.store, gateway.emit), EXPIRY_SWEEP_MS);
  sweep.unref();
  try {
    const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    gateway.settings.publicUrl = options.publicUrl?.replace(/\/+$/, '') ?? address;
    return {
      url: address,
      async close() {
        clearInterval(sweep);
        await gateway.delivery.close();
        await app.close();
      },
    };
  } catch (error) {
    clearInterval(sweep);
    await gateway.delivery.close();
    await app.close();
    throw error;
  }
}
