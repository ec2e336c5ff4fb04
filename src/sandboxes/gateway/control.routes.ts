import type { FastifyError, FastifyInstance } from 'fastify';
import { expireSession, findSession } from './checkout-sessions.ts';
import { NO_REQUEST } from './events.ts';
import { addFaults, noFaults } from './faults.ts';
import { attemptPayment, type Gateway } from './gateway-context.ts';
import { declineSession, type PaymentOverride } from './payments.ts';
import { isEventTypeList } from './event-types.ts';
import { StripeApiError } from './stripe-error.ts';

/**
 * The control API for tests and demos, JSON under /_sandbox/: where webhooks
 * go, faults to inject, a customer's actions without a browser, and what
 * happened (events with their delivery attempts, API calls received).
 * Errors have Stripe's shape, `{ error: { type, message } }`.
 */
export function controlRoutes(gateway: Gateway) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const { store, settings, faults, delivery } = gateway;

    app.setErrorHandler((error: FastifyError | StripeApiError, request, reply) => {
      if (error instanceof StripeApiError) return reply.code(error.status).send(error.body());
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, 'payment sandbox control call failed');
      return reply.code(status).send({ error: { type: status === 500 ? 'api_error' : 'invalid_request_error', message: error.message } });
    });

    const configView = () => ({ webhookUrl: settings.webhookUrl, publicUrl: settings.publicUrl, enabledEvents: settings.enabledEvents, allowShortExpiry: store.allowShortExpiry });

    app.get('/config', async () => configView());

    app.post<{ Body: { webhookUrl?: unknown; enabledEvents?: unknown; allowShortExpiry?: unknown } | undefined }>('/config', async (request) => {
      const { webhookUrl, enabledEvents, allowShortExpiry, ...rest } = request.body ?? {};
      if (Object.keys(rest).length > 0) throw invalid(`Unknown setting: ${Object.keys(rest).join(', ')}.`);
      if (webhookUrl !== undefined && webhookUrl !== null && !isHttpUrl(webhookUrl) && !(Array.isArray(webhookUrl) && webhookUrl.length > 0 && webhookUrl.every(isHttpUrl))) {
        throw invalid('webhookUrl must be an http(s) URL, a non-empty list of them (deliveries spread round-robin), or null for none.');
      }
      if (enabledEvents !== undefined && !isEventTypeList(enabledEvents)) throw invalid('enabledEvents must be a non-empty list of event types such as ["checkout.session.completed"], or ["*"] for all.');
      if (allowShortExpiry !== undefined && typeof allowShortExpiry !== 'boolean') throw invalid('allowShortExpiry must be true or false.');
      if (webhookUrl !== undefined) settings.webhookUrl = Array.isArray(webhookUrl) ? Object.freeze([...webhookUrl] as string[]) : webhookUrl as string | null;
      if (enabledEvents !== undefined) settings.enabledEvents = enabledEvents;
      if (allowShortExpiry !== undefined) store.allowShortExpiry = allowShortExpiry;
      return configView();
    });

    app.get('/faults', async () => faults);

    app.post('/faults', async (request) => {
      addFaults(faults, request.body ?? {});
      return faults;
    });

    app.delete('/faults', async () => {
      Object.assign(faults, noFaults());
      // Events a reorder fault was holding still go out (newest first), as they would have.
      delivery.releaseHeld();
      return faults;
    });

    app.post<{ Params: { id: string }; Body: { amount?: unknown; currency?: unknown } | undefined }>('/sessions/:id/pay', async (request) => {
      const session = findSession(store, request.params.id);
      const override = paymentOverride(request.body ?? {});
      const { outcome, paymentIntent } = attemptPayment(gateway, session, override, NO_REQUEST);
      return { outcome, session, payment_intent: paymentIntent };
    });

    app.post<{ Params: { id: string } }>('/sessions/:id/decline', async (request) => {
      const session = findSession(store, request.params.id);
      const paymentIntent = declineSession(store, gateway.emit, session, NO_REQUEST);
      return { outcome: 'declined', session, payment_intent: paymentIntent };
    });

    app.post<{ Params: { id: string } }>('/sessions/:id/expire-now', async (request) => {
      const session = findSession(store, request.params.id);
      expireSession(store, gateway.emit, session, NO_REQUEST);
      return { session };
    });

    app.get<{ Querystring: { type?: string } }>('/events', async (request) => {
      const { type } = request.query;
      return { data: delivery.reports().filter((report) => !type || report.type === type) };
    });

    app.get<{ Params: { id: string } }>('/events/:id', async (request) => {
      const report = delivery.report(request.params.id);
      if (!report) throw new StripeApiError(404, 'invalid_request_error', `No such event: '${request.params.id}'`, { code: 'resource_missing' });
      return report;
    });

    app.post<{ Params: { id: string } }>('/events/:id/resend', async (request) => {
      if (!delivery.resend(request.params.id)) throw new StripeApiError(404, 'invalid_request_error', `No such event: '${request.params.id}'`, { code: 'resource_missing' });
      return delivery.report(request.params.id);
    });

    app.get('/requests', async () => ({ data: gateway.requests }));

    app.delete('/requests', async () => {
      gateway.requests.length = 0;
      return { data: [] };
    });
  };
}

function paymentOverride(body: { amount?: unknown; currency?: unknown }): PaymentOverride {
  const override: PaymentOverride = {};
  if (body.amount !== undefined) {
    if (!Number.isSafeInteger(body.amount) || (body.amount as number) < 0) throw invalid('amount must be a whole number of the smallest currency unit (cents), 0 or more.');
    override.amount = body.amount as number;
  }
  if (body.currency !== undefined) {
    if (typeof body.currency !== 'string' || !/^[a-z]{3}$/.test(body.currency)) throw invalid('currency must be a three-letter lowercase ISO code such as eur.');
    override.currency = body.currency;
  }
  return override;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function invalid(message: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, { remembered: false });
}
