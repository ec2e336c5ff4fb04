import type { ApiRequestRecord } from './gateway-context.ts';
import type { Faults } from './faults.ts';
import type { PaymentOutcome } from './payments.ts';
import type { CheckoutSession, PaymentIntent } from './stripe-objects.ts';
import type { DeliveryReport } from './webhook-delivery.ts';

export type { ApiRequestRecord, DeliveryReport, Faults };

export interface SandboxSettings {
  /** Several: each delivery attempt goes to the next, round-robin (a load balancer in front of several web processes). */
  webhookUrl: string | string[] | null;
  publicUrl: string;
  /** The event types delivered to the endpoint; `['*']` for all. */
  enabledEvents: string[];
  allowShortExpiry: boolean;
}

/** What `POST /_sandbox/faults` takes: every field optional, counts add to those still pending. */
export type FaultRequest = Partial<Omit<Faults, 'failApi'>> & { failApi?: { count: number; status: 500 | 502 | 503; path?: string } };

export interface PaymentResult {
  outcome: PaymentOutcome;
  session: CheckoutSession;
  payment_intent: PaymentIntent;
}

export class GatewaySandboxError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * The control API of the payment sandbox, typed, for tests and the
 * benchmark: `const gateway = gatewaySandboxClient(sandbox.url)`.
 */
export function gatewaySandboxClient(baseUrl: string) {
  const base = baseUrl.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}/_sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json() as T & { error?: { message?: string } };
    if (!response.ok) throw new GatewaySandboxError(response.status, json.error?.message ?? `the payment sandbox answered ${response.status}`);
    return json;
  }

  const client = {
    settings: () => call<SandboxSettings>('GET', '/config'),
    configure: (settings: { webhookUrl?: string | string[] | null; enabledEvents?: string[]; allowShortExpiry?: boolean }) => call<SandboxSettings>('POST', '/config', settings),
    faults: () => call<Faults>('GET', '/faults'),
    addFaults: (faults: FaultRequest) => call<Faults>('POST', '/faults', faults),
    /** Clears every fault; events held back by reorderWebhooks are sent (newest first). */
    resetFaults: () => call<Faults>('DELETE', '/faults'),
    /** Pays like the hosted page's button (a declineNext fault still declines); amount/currency change what was charged. */
    pay: (sessionId: string, override: { amount?: number; currency?: string } = {}) =>
      call<PaymentResult>('POST', `/sessions/${encodeURIComponent(sessionId)}/pay`, override),
    decline: (sessionId: string) => call<PaymentResult>('POST', `/sessions/${encodeURIComponent(sessionId)}/decline`, {}),
    expireNow: (sessionId: string) => call<{ session: CheckoutSession }>('POST', `/sessions/${encodeURIComponent(sessionId)}/expire-now`, {}),
    /** Every event, oldest first, with its delivery attempts and outcome. */
    events: async (type?: string) => (await call<{ data: DeliveryReport[] }>('GET', `/events${type ? `?type=${encodeURIComponent(type)}` : ''}`)).data,
    event: (eventId: string) => call<DeliveryReport>('GET', `/events/${encodeURIComponent(eventId)}`),
    resend: (eventId: string) => call<DeliveryReport>('POST', `/events/${encodeURIComponent(eventId)}/resend`, {}),
    /** The API calls received (method, path, idempotency key, status), oldest first. */
    requests: async () => (await call<{ data: ApiRequestRecord[] }>('GET', '/requests')).data,
    clearRequests: () => call<{ data: [] }>('DELETE', '/requests'),
    /**
     * Polls the events until `done` holds (e.g. every delivery settled), or
     * fails after `timeoutMs` naming what it saw last.
     */
    async waitForEvents(done: (events: DeliveryReport[]) => boolean, timeoutMs = 5000): Promise<DeliveryReport[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const events = await client.events();
        if (done(events)) return events;
        if (Date.now() > deadline) {
          throw new Error(`the payment sandbox's events did not settle in ${timeoutMs} ms: ${events.map((e) => `${e.type}=${e.outcome}`).join(', ')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
  };
  return client;
}

export type GatewaySandboxClient = ReturnType<typeof gatewaySandboxClient>;
