import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type Stripe from 'stripe';
import { sessionSecret } from '../auth/session-secret.ts';
import type { Config } from '../config.ts';
import { describeDatabaseErrorForClient } from '../db/database-errors.ts';
import type { Db } from '../db/kysely.ts';
import { HttpError } from '../http/http-error.ts';
import { readForm, readQuery } from '../http/input.ts';
import { renderPage } from '../http/render.ts';
import type { Logger } from '../logger.ts';
import { MAX_QUANTITY } from '../orders/checkout-request.ts';
import { createCheckout, PaymentGatewayError, retryPayment, type CheckoutDeps } from '../orders/checkout.service.ts';
import { getInvoicePdf } from '../orders/invoices.repository.ts';
import { formatAmount } from '../orders/money.ts';
import type { InvoiceKind } from '../orders/orders.schema.ts';
import { getOrderStatus, type OrderStatus } from '../orders/order-status.ts';
import { createStripeClient } from '../orders/stripe-client.ts';
import { checkCustomerFields, checkoutRequestOf, CUSTOMER_FIELDS, formValues, type CheckoutFormValues } from './checkout-form.ts';
import { orderAccess, orderNumberFrom, rememberedOrders, rememberOrder, sameSecret } from './order-access.ts';
import { orderPageModel } from './order-page.ts';
import { findDocumentId, findOrderForAccess, lastPaymentFailure, listProducts } from './shop.repository.ts';

export interface ShopRoutesOptions {
  db: Db;
  config: Config;
  log: Logger;
  /** The payment gateway client (default: one from config). */
  stripe?: Stripe;
}

/** Products shown at once; a search narrows the list. */
export const SHOP_PAGE_SIZE = 50;
const MAX_SEARCH = 100;

type Params = { number: string };

/** Customers do not sign in: every shop route is public (the stats pages keep their sign-in). */
const PUBLIC = { config: { public: true } } as const;

const emptyForm = (q = '', referralCode = ''): CheckoutFormValues => ({
  email: '', name: '', line1: '', line2: '', postalCode: '', city: '', country: '', referralCode, q, quantities: new Map(),
});

/**
 * The web shop: the product list with the order form, the checkout (which
 * sends the customer to the gateway's payment page), and the order page the
 * gateway sends them back to: live status, retry after a decline, invoice.
 *
 * Order pages are reached with a key (see order-access.ts); the gateway's
 * return URLs (/orders/<number>, /orders/<number>/thanks) hand it out to the
 * browser that paid, or after the customer confirms the order's e-mail address.
 */
export const shopRoutes: FastifyPluginAsync<ShopRoutesOptions> = async (app, { db, config, log, stripe }) => {
  const access = orderAccess(await sessionSecret(config));
  const checkoutDeps: CheckoutDeps = { db, stripe: stripe ?? createStripeClient(config.stripe), config, log };
  const currency = config.orders.currency.toUpperCase();

  // Order pages carry their key in the address: it must not travel on to the
  // gateway (or anywhere else) in a Referer, nor sit in a shared cache.
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('cache-control', 'no-store');
    return payload;
  });

  async function showShop(request: FastifyRequest, reply: FastifyReply, status: number, values: CheckoutFormValues, problem?: string) {
    const { products, matching } = await listProducts(db, values.q, SHOP_PAGE_SIZE);
    return renderPage(request, reply.status(status), 'shop/shop', {
      title: 'Shop',
      problem,
      values,
      maxQuantity: MAX_QUANTITY,
      products: products.map((product) => ({
        ...product,
        price: `${formatAmount(product.price)} ${currency}`,
        quantity: values.quantities.get(product.id) ?? '',
      })),
      capped: matching > products.length ? { shown: products.length, matching: matching.toLocaleString('en-GB') } : undefined,
    });
  }

  function paymentUnavailable(request: FastifyRequest, reply: FastifyReply, error: PaymentGatewayError) {
    rememberOrder(request, reply, error.number);
    return renderPage(request, reply.status(502), 'shop/payment-unavailable', {
      title: 'Payment service unavailable', message: error.message, number: error.number,
      orderHref: access.orderPath(error.number), retryAction: access.orderPath(error.number, '/retry'),
    });
  }

  async function showOrder(request: FastifyRequest, reply: FastifyReply, status: number, order: OrderStatus, problem?: string) {
    const failure = order.paymentState === 'payment_failed' ? await lastPaymentFailure(db, order.orderId) : undefined;
    return renderPage(request, reply.status(status), 'shop/order', orderPageModel(order, access, failure, problem));
  }

  /** The order number of a keyed order address, or a 404 that says nothing about which orders exist. */
  function keyedNumber(request: FastifyRequest): string {
    const number = orderNumberFrom((request.params as Params).number);
    if (!number || !access.allows(number, readQuery(request.query, ['key'], { unknown: 'ignore' })('key'))) {
      throw new HttpError(404, 'unknown_order', 'This order link is not valid: open the link from your order e-mail, or the one you were sent back to after paying.');
    }
    return number;
  }

  app.get('/shop', PUBLIC, async (request, reply) => {
    const value = readQuery(request.query, ['q', 'ref'], { unknown: 'ignore' });
    const q = value('q') ?? '';
    if (q.length > MAX_SEARCH) throw new HttpError(400, 'search_too_long', `Search for at most ${MAX_SEARCH} characters.`);
    // A sales agent's referral link: /shop?ref=CODE fills in the code.
    const ref = (value('ref') ?? '').slice(0, 64);
    return showShop(request, reply, 200, emptyForm(q, ref));
  });

  // The customer's fields are checked by the route (checkCustomerFields), so a refusal shows in the form with what was typed.
  app.post('/shop/checkout', {
    config: { public: true, formFieldsCheckedByRoute: Object.keys(CUSTOMER_FIELDS) }, preValidation: app.csrfProtection,
  }, async (request, reply) => {
    const values = formValues(request.body);
    let result;
    try {
      checkCustomerFields(request.body);
      result = await createCheckout(checkoutDeps, checkoutRequestOf(values));
    } catch (error) {
      // The order is saved as payment_failed: its page offers to pay again.
      if (error instanceof PaymentGatewayError) return paymentUnavailable(request, reply, error);
      if (error instanceof HttpError && error.statusCode < 500) return showShop(request, reply, error.statusCode, values, error.message);
      const explained = describeDatabaseErrorForClient(error);
      if (explained) return showShop(request, reply, 400, values, explained);
      throw error;
    }
    request.log.info({ orderId: result.orderId, number: result.number }, 'checkout: sending the customer to the payment page');
    rememberOrder(request, reply, result.number);
    return reply.redirect(result.redirectUrl, 303);
  });

  app.get('/shop/orders/:number', PUBLIC, async (request, reply) => {
    const number = keyedNumber(request);
    const order = await getOrderStatus(db, { number });
    if (!order) throw new HttpError(404, 'unknown_order', `There is no order ${number}.`);
    return showOrder(request, reply, 200, order);
  });

  app.post('/shop/orders/:number/retry', { ...PUBLIC, preValidation: app.csrfProtection }, async (request, reply) => {
    const number = keyedNumber(request);
    const order = await findOrderForAccess(db, number);
    if (!order) throw new HttpError(404, 'unknown_order', `There is no order ${number}.`);
    try {
      const result = await retryPayment(checkoutDeps, order.id);
      request.log.info({ orderId: order.id, number }, 'payment retried: sending the customer to the payment page');
      return reply.redirect(result.redirectUrl, 303);
    } catch (error) {
      if (error instanceof PaymentGatewayError) return paymentUnavailable(request, reply, error);
      if (error instanceof HttpError && error.statusCode < 500) {
        // Paid, expired or cancelled in the meantime: the page says what it is now, and why not.
        const status = await getOrderStatus(db, { orderId: order.id });
        if (status) return showOrder(request, reply, error.statusCode, status, error.message);
      }
      throw error;
    }
  });

  const documents: [string, InvoiceKind, string][] = [['invoice.pdf', 'invoice', 'invoice'], ['credit-note.pdf', 'credit_note', 'credit note']];
  for (const [file, kind, words] of documents) {
    app.get(`/shop/orders/:number/${file}`, PUBLIC, async (request, reply) => {
      const number = keyedNumber(request);
      const order = await findOrderForAccess(db, number);
      if (!order) throw new HttpError(404, 'unknown_order', `There is no order ${number}.`);
      const documentId = await findDocumentId(db, order.id, kind);
      const document = documentId ? await getInvoicePdf(db, documentId) : undefined;
      if (!document) {
        throw new HttpError(404, 'document_not_ready', documentId
          ? `The ${words} of order ${number} is being prepared: try again in a minute.`
          : `Order ${number} has no ${words} yet${kind === 'invoice' ? ': it is issued once the order is paid' : ''}.`);
      }
      return reply.type('application/pdf')
        .header('content-disposition', `attachment; filename="${document.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
        .send(document.pdf);
    });
  }

  // The gateway's return addresses (checkout.service.ts: success_url and cancel_url).

  app.get('/orders/:number/thanks', PUBLIC, async (request, reply) => {
    const number = orderNumberFrom((request.params as Params).number);
    if (!number) throw new HttpError(404, 'unknown_order', 'There is no order with this number.');
    const order = await findOrderForAccess(db, number);
    // Only the gateway (and so whoever paid) knows the session id it puts here.
    if (order && sameSecret(order.checkoutSessionId, readQuery(request.query, ['session_id'], { unknown: 'ignore' })('session_id'))) {
      rememberOrder(request, reply, number);
      return reply.redirect(access.orderPath(number), 303);
    }
    return returnWithoutKey(request, reply, number);
  });

  app.get('/orders/:number', PUBLIC, async (request, reply) => {
    const number = orderNumberFrom((request.params as Params).number);
    if (!number) throw new HttpError(404, 'unknown_order', 'There is no order with this number.');
    return returnWithoutKey(request, reply, number);
  });

  function returnWithoutKey(request: FastifyRequest, reply: FastifyReply, number: string) {
    if (rememberedOrders(request).includes(number)) return reply.redirect(access.orderPath(number), 303);
    return renderPage(request, reply, 'shop/find-order', { title: `Order ${number}`, number, email: '' });
  }

  // Anyone may try an address here: the same answer for a wrong address and
  // an unknown number, and few tries a minute.
  app.post('/orders/:number', {
    config: {
      public: true,
      rateLimit: {
        max: config.loginAttemptsPerMinute, timeWindow: '1 minute',
        errorResponseBuilder: (_request, context) =>
          new HttpError(429, 'too_many_attempts', `Too many tries from your address: wait ${context.after} and try again.`),
      },
    },
    preValidation: app.csrfProtection,
  }, async (request, reply) => {
    const number = orderNumberFrom((request.params as Params).number);
    if (!number) throw new HttpError(404, 'unknown_order', 'There is no order with this number.');
    const email = (readForm(request.body, ['email'])('email') ?? '').slice(0, 254);
    if (!email) {
      return renderPage(request, reply.status(400), 'shop/find-order', { title: `Order ${number}`, number, email, problem: 'Enter the e-mail address you placed the order with.' });
    }
    const order = await findOrderForAccess(db, number);
    if (!order || order.email.toLowerCase() !== email.toLowerCase()) {
      request.log.info({ number }, 'order look-up refused');
      return renderPage(request, reply.status(404), 'shop/find-order', {
        title: `Order ${number}`, number, email, problem: `We have no order ${number} for that e-mail address: check both and try again.`,
      });
    }
    rememberOrder(request, reply, number);
    return reply.redirect(access.orderPath(number), 303);
  });
};
