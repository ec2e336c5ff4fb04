import type Stripe from 'stripe';
import type { Db } from '../db/kysely.ts';
import type { PaymentDeps } from './payment.service.ts';
import { applyStripeEvent, type EventOutcome } from './stripe-events.ts';
import { transitionPayment } from './order-state-machine.ts';
import { stripeEventProblem } from './stripe-event-shape.ts';
import { toStorableJson } from '../webhooks/storable-json.ts';

export interface SyncDeps extends PaymentDeps {
  db: Db;
  stripe: Stripe;
}

/**
 * Asks the gateway what became of an order's checkout session and applies the
 * answer as the event that would have said so (checkout.session.completed or
 * .expired), through the same code as the webhook: a webhook that was lost,
 * or is still on its way, changes nothing the other did not.
 *
 * With `expireIfOpen`, a session still open after the order's expiry is ended
 * at the gateway first, so it cannot be paid once the order is expired.
 */
export async function syncOrderWithGateway(deps: SyncDeps, orderId: string, options: { source: string; expireIfOpen?: boolean }): Promise<EventOutcome> {
  const order = await deps.db.selectFrom('orders').select(['id', 'checkout_session_id', 'payment_state']).where('id', '=', orderId).executeTakeFirst();
  if (!order) return 'unknown_order';
  if (!order.checkout_session_id) {
    // No session was ever created (the gateway failed at checkout): nothing to ask, nothing to pay.
    if (!options.expireIfOpen) return 'no_session';
    return await deps.db.transaction().execute((trx) => transitionPayment(trx, {
      orderId, to: 'expired', from: ['payment_failed', 'pending_payment'], reason: 'not paid in time', source: options.source,
    }, deps.log)) ? 'expired' : 'no_change';
  }
  let session = await deps.stripe.checkout.sessions.retrieve(order.checkout_session_id);
  if (session.status === 'open' && options.expireIfOpen) {
    try {
      session = await deps.stripe.checkout.sessions.expire(session.id);
    } catch (error) {
      // Paid (or expired) in the meantime: read what it is now.
      deps.log.info({ orderId, session: session.id, err: error }, 'the checkout session could not be expired; reading it again');
      session = await deps.stripe.checkout.sessions.retrieve(session.id);
    }
  }
  const type = session.status === 'complete' ? 'checkout.session.completed' : session.status === 'expired' ? 'checkout.session.expired' : null;
  if (!type) return `open`;
  // The gateway's answer is held to what its webhook would be: storable text, and the shape the processor reads.
  const event = toStorableJson({ id: options.source, object: 'event', type, data: { object: session } }).value as Stripe.Event;
  const problem = stripeEventProblem(event);
  if (problem) {
    deps.log.error({ orderId, session: session.id, problem }, 'the gateway\'s answer about a checkout session cannot be applied');
    return `refused: ${problem}`;
  }
  return deps.db.transaction().execute((trx) => applyStripeEvent(trx, deps, event));
}
