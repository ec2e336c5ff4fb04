import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Handlebars from 'handlebars';
import { findSession } from './checkout-sessions.ts';
import { NO_REQUEST } from './events.ts';
import { attemptPayment, type Gateway } from './gateway-context.ts';
import { formatMoney } from './money.ts';
import { declineSession } from './payments.ts';
import { StripeApiError } from './stripe-error.ts';
import type { CheckoutSession } from './stripe-objects.ts';

const TEMPLATE = path.resolve(import.meta.dirname, '../../../templates/sandboxes/gateway/checkout.hbs');

/**
 * The hosted checkout page a customer is sent to (`session.url`): plain
 * forms, no script. Pay redirects to the session's success_url; Decline (or a
 * declineNext fault) comes back here with "Your card was declined" and the
 * Pay button, as Stripe's page lets the customer try another card.
 */
export async function hostedPageRoutes(gateway: Gateway) {
  const render = Handlebars.create().compile<PageModel>(await readFile(TEMPLATE, 'utf8'), { strict: false });

  return async function routes(app: FastifyInstance): Promise<void> {
    const pageUrl = (session: CheckoutSession) => `${gateway.settings.publicUrl}/pay/${encodeURIComponent(session.id)}`;

    app.get<{ Params: { id: string } }>('/pay/:id', async (request, reply) => {
      const session = sessionOrPage(gateway, request.params.id, reply);
      if (!session) return reply;
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(render(pageModel(gateway, session, pageUrl(session))));
    });

    app.post<{ Params: { id: string } }>('/pay/:id/pay', async (request, reply) => {
      const session = sessionOrPage(gateway, request.params.id, reply);
      if (!session) return reply;
      if (session.status !== 'open') return reply.redirect(pageUrl(session), 303);
      const { outcome } = attemptPayment(gateway, session, {}, NO_REQUEST);
      if (outcome === 'declined' || !session.success_url) return reply.redirect(pageUrl(session), 303);
      return reply.redirect(session.success_url.replaceAll('{CHECKOUT_SESSION_ID}', session.id), 303);
    });

    app.post<{ Params: { id: string } }>('/pay/:id/decline', async (request, reply) => {
      const session = sessionOrPage(gateway, request.params.id, reply);
      if (!session) return reply;
      if (session.status === 'open') declineSession(gateway.store, gateway.emit, session, NO_REQUEST);
      return reply.redirect(pageUrl(session), 303);
    });
  };
}

function sessionOrPage(gateway: Gateway, id: string, reply: FastifyReply): CheckoutSession | undefined {
  try {
    return findSession(gateway.store, id);
  } catch (error) {
    if (!(error instanceof StripeApiError)) throw error;
    void reply.code(404).type('text/html; charset=utf-8').send('<!doctype html><meta charset="utf-8"><title>Not found · Payment sandbox</title><p>Payment sandbox — no real money.</p><p>There is no checkout session with this id.</p>');
    return undefined;
  }
}

interface PageModel {
  title: string;
  sessionId: string;
  open: boolean;
  declined: boolean;
  complete: boolean;
  expired: boolean;
  items: Array<{ name: string; quantity: number; unitPrice: string; amount: string }>;
  total: string;
  payAction: string;
  declineAction: string;
  cancelUrl: string | null;
  successUrl: string | null;
  expiresAt: string;
}

function pageModel(gateway: Gateway, session: CheckoutSession, url: string): PageModel {
  const intent = session.payment_intent ? gateway.store.paymentIntents.get(session.payment_intent) : undefined;
  const items = gateway.store.lineItems.get(session.id) ?? [];
  return {
    title: session.status === 'complete' ? 'Payment complete' : session.status === 'expired' ? 'Checkout expired' : 'Checkout',
    sessionId: session.id,
    open: session.status === 'open',
    declined: session.status === 'open' && intent?.last_payment_error?.code === 'card_declined',
    complete: session.status === 'complete',
    expired: session.status === 'expired',
    items: items.map((item) => ({
      name: item.description,
      quantity: item.quantity,
      unitPrice: formatMoney(item.price.unit_amount, item.currency),
      amount: formatMoney(item.amount_total, item.currency),
    })),
    total: formatMoney(session.amount_total, session.currency),
    payAction: `${url}/pay`,
    declineAction: `${url}/decline`,
    cancelUrl: session.cancel_url,
    successUrl: session.success_url?.replaceAll('{CHECKOUT_SESSION_ID}', session.id) ?? null,
    expiresAt: new Date(session.expires_at * 1000).toISOString().slice(0, 16).replace('T', ' '),
  };
}
