import type { Db } from '../db/kysely.ts';
import type { FulfilmentState, PaymentState } from './order-states.ts';

export interface OrderStatus {
  orderId: string;
  number: string;
  paymentState: PaymentState;
  fulfilmentState: FulfilmentState;
  /** A person must look at it (the gateway reported another amount, or a second payment). */
  needsReview: boolean;
  currency: string;
  total: string;
  items: { productId: string; name: string; quantity: number; unitPrice: string }[];
  customer: { name: string; email: string };
  createdAt: Date;
  paidAt: Date | null;
  /** The gateway's payment page, while the order waits for its payment. */
  checkoutUrl: string | null;
  /** Declined or failed: retryPayment opens a new payment page. */
  canRetryPayment: boolean;
  /** Invoices and credit notes, with whether their PDF is ready for download (getInvoicePdf). */
  documents: { invoiceId: string; kind: 'invoice' | 'credit_note'; number: string; issuedAt: Date; pdfReady: boolean }[];
}

/**
 * What the order page and the return page show, by id or by the number on
 * the customer's receipt. Undefined for an unknown order.
 */
export async function getOrderStatus(db: Db, ref: { orderId: string } | { number: string }): Promise<OrderStatus | undefined> {
  let query = db.selectFrom('orders').selectAll();
  if ('orderId' in ref) {
    if (!/^[1-9][0-9]{0,17}$/.test(ref.orderId)) return undefined;
    query = query.where('id', '=', ref.orderId);
  } else {
    query = query.where('number', '=', ref.number.trim().toUpperCase());
  }
  const order = await query.executeTakeFirst();
  if (!order) return undefined;
  const [items, documents] = await Promise.all([
    db.selectFrom('order_items').select(['product_id', 'name', 'quantity', 'unit_price']).where('order_id', '=', order.id).orderBy('id').execute(),
    db.selectFrom('invoices as i').leftJoin('invoice_documents as d', 'd.invoice_id', 'i.id')
      .select(['i.id', 'i.kind', 'i.number', 'i.issued_at', 'd.invoice_id as rendered'])
      .where('i.order_id', '=', order.id).orderBy('i.id').execute(),
  ]);
  return {
    orderId: order.id,
    number: order.number,
    paymentState: order.payment_state,
    fulfilmentState: order.fulfilment_state,
    needsReview: order.needs_review,
    currency: order.currency,
    total: order.total,
    items: items.map((item) => ({ productId: item.product_id, name: item.name, quantity: item.quantity, unitPrice: item.unit_price })),
    customer: { name: order.customer_name, email: order.customer_email },
    createdAt: order.created_at,
    paidAt: order.paid_at,
    checkoutUrl: order.payment_state === 'pending_payment' ? order.checkout_url : null,
    canRetryPayment: order.payment_state === 'payment_failed' && !order.needs_review,
    documents: documents.map((doc) => ({ invoiceId: doc.id, kind: doc.kind, number: doc.number, issuedAt: doc.issued_at, pdfReady: doc.rendered !== null })),
  };
}
