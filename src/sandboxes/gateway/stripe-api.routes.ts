import type { FastifyInstance } from 'fastify';
import { createCheckoutSession, expireSession, findSession } from './checkout-sessions.ts';
import { checkExpandable, expandList, expandObject } from './expand.ts';
import type { Gateway } from './gateway-context.ts';
import { LIST_PARAMS, listPage, page } from './list-objects.ts';
import { expandPaths, optionalString, rejectUnknown } from './params.ts';
import { createRefund } from './refunds.ts';
import { installStripeApi } from './stripe-api.plugin.ts';
import { resourceMissing } from './stripe-error.ts';
import type { StripeEvent } from './stripe-objects.ts';

const SESSION_EXPANDABLE = ['line_items', 'payment_intent'];

/** The subset of Stripe's API the shop uses, mounted under /v1. */
export function stripeApiRoutes(gateway: Gateway) {
  return async function routes(api: FastifyInstance): Promise<void> {
    const { route } = installStripeApi(api, gateway);
    const { store, emit } = gateway;

    route('POST', '/checkout/sessions', ({ params }) => {
      const expand = checkExpandable(expandPaths(params), SESSION_EXPANDABLE);
      const session = createCheckoutSession(store, params, gateway.settings.publicUrl);
      return expandObject(store, session, expand);
    });

    route('GET', '/checkout/sessions', ({ params }) => {
      rejectUnknown(params, [...LIST_PARAMS, 'payment_intent', 'status']);
      const intent = optionalString(params, 'payment_intent');
      const status = optionalString(params, 'status');
      const list = listPage(store.sessions.values(), params, '/v1/checkout/sessions', 'checkout.session',
        (session) => (intent === null || session.payment_intent === intent) && (status === null || session.status === status));
      return expandList(store, list, expandPaths(params));
    });

    route('GET', '/checkout/sessions/:id', ({ params, id }) => {
      rejectUnknown(params, ['expand']);
      return expandObject(store, findSession(store, id), expandPaths(params));
    });

    route('GET', '/checkout/sessions/:id/line_items', ({ params, id }) => {
      rejectUnknown(params, ['limit', 'starting_after', 'ending_before', 'expand']);
      findSession(store, id);
      return page(store.lineItems.get(id) ?? [], params, `/v1/checkout/sessions/${id}/line_items`, 'item');
    });

    route('POST', '/checkout/sessions/:id/expire', ({ params, id, origin }) => {
      rejectUnknown(params, ['expand']);
      const expand = checkExpandable(expandPaths(params), SESSION_EXPANDABLE);
      const session = findSession(store, id);
      expireSession(store, emit, session, origin);
      return expandObject(store, session, expand);
    });

    route('GET', '/payment_intents/:id', ({ params, id }) => {
      rejectUnknown(params, ['expand', 'client_secret']);
      const intent = store.paymentIntents.get(id);
      if (!intent) throw resourceMissing('payment_intent', id, 'intent');
      return expandObject(store, intent, expandPaths(params));
    });

    route('GET', '/charges/:id', ({ params, id }) => {
      rejectUnknown(params, ['expand']);
      const charge = store.charges.get(id);
      if (!charge) throw resourceMissing('charge', id, 'charge');
      return expandObject(store, charge, expandPaths(params));
    });

    route('POST', '/refunds', ({ params, origin }) => {
      const expand = checkExpandable(expandPaths(params), ['charge', 'payment_intent']);
      return expandObject(store, createRefund(store, emit, params, origin), expand);
    });

    route('GET', '/refunds', ({ params }) => {
      rejectUnknown(params, [...LIST_PARAMS, 'payment_intent', 'charge']);
      const intent = optionalString(params, 'payment_intent');
      const charge = optionalString(params, 'charge');
      const list = listPage(store.refunds.values(), params, '/v1/refunds', 'refund',
        (refund) => (intent === null || refund.payment_intent === intent) && (charge === null || refund.charge === charge));
      return expandList(store, list, expandPaths(params));
    });

    route('GET', '/refunds/:id', ({ params, id }) => {
      rejectUnknown(params, ['expand']);
      const refund = store.refunds.get(id);
      if (!refund) throw resourceMissing('refund', id, 'refund');
      return expandObject(store, refund, expandPaths(params));
    });

    route('GET', '/events/:id', ({ params, id }) => {
      rejectUnknown(params, ['expand']);
      const event = store.events.get(id);
      if (!event) throw resourceMissing('event', id, 'id');
      return withPendingWebhooks(gateway, event);
    });

    route('GET', '/events', ({ params }) => {
      rejectUnknown(params, [...LIST_PARAMS, 'type', 'types', 'delivery_success']);
      const matches = eventTypeFilter(params.type, params.types);
      const delivered = optionalString(params, 'delivery_success');
      const list = listPage(store.events.values(), params, '/v1/events', 'event', (event) => matches(event.type)
        && (delivered === null || (gateway.delivery.outcome(event.id) === 'delivered') === (delivered === 'true')));
      return { ...list, data: list.data.map((event) => withPendingWebhooks(gateway, event)) };
    });
  };
}

/** Stripe counts the endpoints that have not yet acknowledged an event (none for a type the endpoint is not subscribed to). */
function withPendingWebhooks(gateway: Gateway, event: StripeEvent): StripeEvent {
  const outcome = gateway.delivery.outcome(event.id);
  return { ...event, pending_webhooks: outcome === undefined || outcome === 'delivered' || outcome === 'no_endpoint' ? 0 : 1 };
}

/** `type=checkout.session.*` (a trailing wildcard, as Stripe allows) or `types[]=…` (exact names). */
function eventTypeFilter(type: unknown, types: unknown): (name: string) => boolean {
  if (typeof type === 'string' && type !== '') {
    if (type.endsWith('*')) return (name) => name.startsWith(type.slice(0, -1));
    return (name) => name === type;
  }
  if (Array.isArray(types)) {
    const names = types.filter((item): item is string => typeof item === 'string');
    return (name) => names.includes(name);
  }
  return () => true;
}
