import Stripe from 'stripe';
import type { StripeConfig } from '../config.ts';

/**
 * The official SDK, from config. STRIPE_API_BASE points it at another host
 * speaking Stripe's API (the gateway sandbox in development and tests).
 * Requests time out after a few seconds and are retried twice by the SDK,
 * which sends the same Idempotency-Key each time (it makes one for every POST
 * that has none), so a retry never creates a second object.
 */
export function createStripeClient(config: StripeConfig): Stripe {
  const options: Stripe.StripeConfig = {
    maxNetworkRetries: 2,
    timeout: config.timeoutMs,
    telemetry: false,
    appInfo: { name: 'tanktop' },
  };
  if (config.apiBase) {
    const url = new URL(config.apiBase);
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    options.host = url.hostname;
    options.port = url.port || (protocol === 'https' ? 443 : 80);
    options.protocol = protocol;
  }
  return new Stripe(config.secretKey, options);
}

export type { Stripe };
