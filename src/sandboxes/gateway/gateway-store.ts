import type { Charge, CheckoutSession, LineItem, Metadata, PaymentIntent, Refund, StripeEvent } from './stripe-objects.ts';

/** What a session keeps for the payment intent it creates when the customer first tries to pay. */
export interface PaymentIntentData {
  description: string | null;
  metadata: Metadata;
}

/**
 * The sandbox's whole state, in memory: a restart forgets it, as a sandbox
 * may. Maps keep insertion order, which is creation order: lists read them
 * backwards (newest first, as Stripe lists).
 */
export interface GatewayStore {
  readonly sessions: Map<string, CheckoutSession>;
  readonly lineItems: Map<string, LineItem[]>;
  readonly paymentIntentData: Map<string, PaymentIntentData>;
  readonly paymentIntents: Map<string, PaymentIntent>;
  readonly charges: Map<string, Charge>;
  readonly refunds: Map<string, Refund>;
  readonly events: Map<string, StripeEvent>;
  /** Sessions still open, so the expiry sweep does not walk every session ever made. */
  readonly openSessions: Set<string>;
  /**
   * The account's API version, for events: Stripe pins an account to the
   * version of its first API request; the sandbox does the same.
   */
  apiVersion: string | undefined;
  /** Allow `expires_at` under Stripe's 30-minute minimum (tests that watch a session expire). */
  allowShortExpiry: boolean;
}

/** Used for events when no API request has named a version yet. */
export const FALLBACK_API_VERSION = '2025-01-27.acacia';

export function createStore(): GatewayStore {
  return {
    sessions: new Map(),
    lineItems: new Map(),
    paymentIntentData: new Map(),
    paymentIntents: new Map(),
    charges: new Map(),
    refunds: new Map(),
    events: new Map(),
    openSessions: new Set(),
    apiVersion: undefined,
    allowShortExpiry: false,
  };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
