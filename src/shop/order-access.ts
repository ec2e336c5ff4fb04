import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Who may read an order. The order number (TT-XXXX-XXXX) is random, but it
 * is also printed on receipts, invoices and e-mails and read out on the
 * phone: knowing it must not be enough to see a customer's name, address and
 * invoice. The order page's address therefore carries a key, an HMAC of the
 * number under a key derived from the session secret: nothing to store,
 * nothing to guess, and a wrong key is refused before the database is asked
 * (so the answer says nothing about which numbers exist).
 *
 * The gateway sends the customer back to /orders/<number> (cancel) and
 * /orders/<number>/thanks?session_id=… (success), without the key: the
 * session id (known only to whoever paid) or this browser's cookie of the
 * orders it placed grant it there; otherwise the customer confirms the order's
 * e-mail address (see shop.routes.ts).
 */

export const ORDER_NUMBER = /^TT-[0-9A-Z]{4}-[0-9A-Z]{4}$/;
/** The signed cookie listing the orders this browser placed (numbers only: the keys follow from them). */
export const ORDERS_COOKIE = 'tanktop_orders';
const COOKIE_MAX_ORDERS = 20;
const COOKIE_MAX_AGE_SECONDS = 90 * 24 * 3600;

/** The canonical form of a number from a URL, or undefined when it cannot be one. */
export function orderNumberFrom(raw: string): string | undefined {
  const number = raw.trim().toUpperCase();
  return ORDER_NUMBER.test(number) ? number : undefined;
}

export interface OrderAccess {
  /** The key of an order's pages (base64url, 32 characters: 192 bits). */
  keyOf(number: string): string;
  /** Whether `key` opens the order `number` (constant time). */
  allows(number: string, key: unknown): boolean;
  /** /shop/orders/<number>[/suffix]?key=… */
  orderPath(number: string, suffix?: string): string;
}

export function orderAccess(sessionSecret: string): OrderAccess {
  // A key of its own, so an order key is never a valid signature of anything else.
  const secret = createHmac('sha256', sessionSecret).update('tanktop order access v1').digest();
  const keyOf = (number: string) => createHmac('sha256', secret).update(number).digest('base64url').slice(0, 32);
  return {
    keyOf,
    allows(number, key) {
      if (typeof key !== 'string' || key.length !== 32) return false;
      return timingSafeEqual(Buffer.from(keyOf(number)), Buffer.from(key));
    },
    orderPath: (number, suffix = '') => `/shop/orders/${number}${suffix}?key=${keyOf(number)}`,
  };
}

/** The order numbers in this browser's (signed) cookie. */
export function rememberedOrders(request: FastifyRequest): string[] {
  const raw = request.cookies[ORDERS_COOKIE];
  if (!raw) return [];
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || !unsigned.value) return [];
  return unsigned.value.split('.').filter((number) => ORDER_NUMBER.test(number));
}

/** Adds an order to the cookie (the newest 20 are kept). */
export function rememberOrder(request: FastifyRequest, reply: FastifyReply, number: string): void {
  const numbers = [number, ...rememberedOrders(request).filter((known) => known !== number)].slice(0, COOKIE_MAX_ORDERS);
  void reply.setCookie(ORDERS_COOKIE, numbers.join('.'), {
    signed: true, httpOnly: true, sameSite: 'lax', path: '/', maxAge: COOKIE_MAX_AGE_SECONDS,
    secure: request.protocol === 'https',
  });
}

/** Equal strings, in constant time for equal lengths. */
export function sameSecret(a: string | null | undefined, b: unknown): boolean {
  if (!a || typeof b !== 'string' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
