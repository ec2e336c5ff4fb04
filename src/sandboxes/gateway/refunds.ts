import type { Emit, Origin } from './events.ts';
import type { FormObject } from './form-decoder.ts';
import { nowSeconds, type GatewayStore } from './gateway-store.ts';
import { formatMoney } from './money.ts';
import { metadata, optionalInteger, optionalString, rejectUnknown } from './params.ts';
import { StripeApiError, parameterInvalid, resourceMissing } from './stripe-error.ts';
import { stripeId } from './stripe-ids.ts';
import type { Charge, Refund, RefundReason } from './stripe-objects.ts';

const REASONS: readonly RefundReason[] = ['duplicate', 'fraudulent', 'requested_by_customer'];

/**
 * A refund of a succeeded payment, whole (no amount) or in part; card refunds
 * succeed at once in test mode. More than what remains unrefunded is refused
 * as Stripe refuses it. `refund.created` and `charge.refunded` go out.
 */
export function createRefund(store: GatewayStore, emit: Emit, params: FormObject, origin: Origin): Refund {
  rejectUnknown(params, ['payment_intent', 'charge', 'amount', 'reason', 'metadata', 'expand']);
  const charge = chargeToRefund(store, params);
  const amount = optionalInteger(params, 'amount', '', 1);
  const reason = optionalString(params, 'reason');
  if (reason !== null && !REASONS.includes(reason as RefundReason)) {
    throw parameterInvalid('reason', `Invalid reason: must be one of ${REASONS.join(', ')}`);
  }
  const meta = metadata(params, 'metadata');
  const remaining = charge.amount - charge.amount_refunded;
  if (remaining === 0) {
    throw new StripeApiError(400, 'invalid_request_error', `Charge ${charge.id} has already been refunded.`, { code: 'charge_already_refunded', param: 'charge' });
  }
  if (amount !== null && amount > remaining) {
    throw new StripeApiError(400, 'invalid_request_error',
      `Refund amount (${formatMoney(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatMoney(remaining, charge.currency)})`,
      { code: 'amount_too_large', param: 'amount' });
  }
  const refund: Refund = {
    id: stripeId('re'),
    object: 'refund',
    amount: amount ?? remaining,
    balance_transaction: stripeId('txn'),
    charge: charge.id,
    created: nowSeconds(),
    currency: charge.currency,
    destination_details: { card: { reference: null, reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' }, type: 'card' },
    metadata: meta,
    payment_intent: charge.payment_intent,
    reason: reason as RefundReason | null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
  store.refunds.set(refund.id, refund);
  charge.amount_refunded += refund.amount;
  charge.refunded = charge.amount_refunded === charge.amount;
  emit('refund.created', refund, origin);
  emit('charge.refunded', charge, origin);
  return refund;
}

function chargeToRefund(store: GatewayStore, params: FormObject): Charge {
  const intentId = optionalString(params, 'payment_intent');
  const chargeId = optionalString(params, 'charge');
  if (intentId === null && chargeId === null) {
    throw new StripeApiError(400, 'invalid_request_error', 'One of the following params should be provided for this request: payment_intent or charge.', { code: 'parameter_missing', remembered: false });
  }
  if (chargeId !== null) {
    const charge = store.charges.get(chargeId);
    if (!charge) throw resourceMissing('charge', chargeId, 'charge');
    if (charge.status !== 'succeeded') throw notRefundable(`Charge ${charge.id} has not succeeded: there is nothing to refund.`, 'charge');
    return charge;
  }
  const intent = store.paymentIntents.get(intentId as string);
  if (!intent) throw resourceMissing('payment_intent', intentId as string, 'payment_intent');
  const charge = intent.status === 'succeeded' && intent.latest_charge ? store.charges.get(intent.latest_charge) : undefined;
  if (!charge) {
    throw notRefundable(`This PaymentIntent (${intent.id}) does not have a successful charge to refund.`, 'payment_intent');
  }
  return charge;
}

function notRefundable(message: string, param: string): StripeApiError {
  return new StripeApiError(400, 'invalid_request_error', message, { code: 'charge_not_refundable', param });
}
