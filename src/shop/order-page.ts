import { formatAmount, fromMinorUnits, toMinorUnits } from '../orders/money.ts';
import type { FulfilmentState, PaymentState } from '../orders/order-states.ts';
import type { OrderStatus } from '../orders/order-status.ts';
import type { OrderAccess } from './order-access.ts';

/** Seconds between reloads of an order page whose state is still expected to change. */
export const REFRESH_SECONDS = 2;

const PAYMENT_WORDS: Record<PaymentState, { label: string; sentence: string }> = {
  pending_payment: { label: 'Waiting for your payment', sentence: 'We have not received your payment yet. If you have just paid, this page updates by itself in a moment.' },
  payment_processing: { label: 'Payment processing', sentence: 'Your payment is being processed. This page updates by itself.' },
  paid: { label: 'Paid', sentence: 'Thank you: your payment has arrived.' },
  payment_failed: { label: 'Payment not completed', sentence: 'Your payment did not go through.' },
  expired: { label: 'Expired', sentence: 'This order expired before it was paid; nothing was charged. You can place a new order in the shop.' },
  cancelled: { label: 'Cancelled', sentence: 'This order was cancelled; nothing was charged.' },
  refund_pending: { label: 'Being refunded', sentence: 'We are refunding your payment.' },
  refunded: { label: 'Refunded', sentence: 'Your payment has been refunded.' },
};

const FULFILMENT_WORDS: Record<FulfilmentState, string> = {
  unfulfilled: 'Not sent yet',
  submitted: 'Passed to our supplier',
  // The supplier could not be reached: the workflow tries again, nothing for the customer to do.
  supplier_failed: 'Being passed to our supplier',
  supplier_rejected: 'Held up at our supplier: we will write to you',
  in_production: 'Being made',
  partially_shipped: 'Partly shipped',
  shipped: 'Shipped',
  delivered: 'Delivered',
  cancelled: 'Cancelled',
};

/**
 * The state machine records the gateway's message after "payment failed: "
 * (Stripe writes those for the customer, e.g. "Your card was declined.");
 * other reasons are ours, for the log, and get a plain sentence instead.
 */
export function failureSentence(reason: string | undefined): string {
  const gatewayMessage = /^payment failed: (.{1,300})$/s.exec(reason ?? '')?.[1]?.trim();
  if (gatewayMessage && gatewayMessage !== 'payment failed') return gatewayMessage;
  if (reason?.startsWith('checkout session not created')) return 'We could not reach the payment service.';
  if (reason === 'asynchronous payment failed') return 'Your bank did not confirm the payment.';
  return 'The payment was not completed.';
}

/** Whether the page should reload itself: the payment (or the invoice after it) is still on its way. */
function stillChanging(status: OrderStatus): boolean {
  if (status.needsReview) return false;
  if (status.paymentState === 'pending_payment' || status.paymentState === 'payment_processing') return true;
  const invoice = status.documents.find((doc) => doc.kind === 'invoice');
  return status.paymentState === 'paid' && !invoice?.pdfReady;
}

export function orderPageModel(status: OrderStatus, access: OrderAccess, failureReason: string | undefined, problem?: string) {
  const currency = status.currency.toUpperCase();
  const money = (amount: string) => `${formatAmount(amount)} ${currency}`;
  const payment = PAYMENT_WORDS[status.paymentState];
  const paidOrLater = !['pending_payment', 'payment_processing', 'payment_failed', 'expired', 'cancelled'].includes(status.paymentState);
  return {
    title: `Order ${status.number}`,
    number: status.number,
    problem,
    placedOn: status.createdAt.toISOString().slice(0, 10),
    paymentState: status.paymentState,
    paymentLabel: payment.label,
    paymentSentence: payment.sentence,
    failure: status.paymentState === 'payment_failed' ? failureSentence(failureReason) : undefined,
    needsReview: status.needsReview,
    customer: status.customer,
    refresh: stillChanging(status) ? REFRESH_SECONDS : undefined,
    checkoutUrl: status.checkoutUrl,
    canRetry: status.canRetryPayment,
    retryAction: access.orderPath(status.number, '/retry'),
    fulfilment: paidOrLater || status.fulfilmentState !== 'unfulfilled'
      ? FULFILMENT_WORDS[status.fulfilmentState]
      : 'Starts once the order is paid',
    items: status.items.map((item) => ({
      name: item.name,
      quantity: item.quantity,
      unitPrice: money(item.unitPrice),
      lineTotal: money(lineTotal(item.unitPrice, item.quantity)),
    })),
    total: money(status.total),
    documents: status.documents.map((doc) => ({
      label: doc.kind === 'invoice' ? 'Invoice' : 'Credit note',
      number: doc.number,
      issuedOn: doc.issuedAt.toISOString().slice(0, 10),
      href: doc.pdfReady ? access.orderPath(status.number, doc.kind === 'invoice' ? '/invoice.pdf' : '/credit-note.pdf') : undefined,
    })),
  };
}

/** unit price × quantity, exactly (numeric strings and bigints, no floats). */
function lineTotal(unitPrice: string, quantity: number): string {
  return fromMinorUnits(toMinorUnits(unitPrice) * BigInt(quantity));
}
