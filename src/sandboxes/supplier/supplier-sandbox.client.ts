import type { Faults, FailStatus, RejectCode } from './faults.ts';
import type { ApiRequestRecord } from './request-log.ts';
import type { DelaysMs } from './supplier-context.ts';
import type { OrderStatus, SupplierOrder } from './supplier-objects.ts';
import type { Fate } from './supplier-store.ts';
import type { DeliveryReport } from './webhook-delivery.ts';

export type { ApiRequestRecord, DeliveryReport, Faults };

export interface SandboxSettings {
  webhookUrl: string | null;
  delaysMs: DelaysMs;
  splitShipmentsEvery: number;
  speed: number;
}

/** What `POST /_sandbox/faults` takes: every field optional; counts add to those pending, the rest replace theirs. */
export interface FaultRequest {
  fail5xx?: { count: number; status?: FailStatus } | { rate: number; status?: FailStatus };
  rateLimit?: { count: number; retryAfterSeconds?: number };
  reject?: { count: number; code: RejectCode };
  acceptThenTimeout?: { count: number; delayMs?: number };
  delayWebhooksMs?: number;
  duplicateWebhooks?: number;
  reorderWebhooks?: number;
  dropWebhooks?: number;
  holdNext?: number;
  failAfterAcceptance?: number;
  cancelAfterAcceptance?: number;
}

/** An order as the control API shows it: the API's object plus the sandbox's plan for it. */
export interface SandboxOrder extends SupplierOrder {
  sandbox: { packages: 1 | 2; fate: Fate; next: { status: OrderStatus; at: string } | null };
}

export class SupplierSandboxError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  constructor(status: number, code: string | undefined, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The control API of the supplier sandbox, typed, for tests and benchmarks:
 * `const supplier = supplierSandboxClient(sandbox.url)`.
 */
export function supplierSandboxClient(baseUrl: string) {
  const base = baseUrl.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}/_sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json() as T & { error?: { code?: string; message?: string } };
    if (!response.ok) throw new SupplierSandboxError(response.status, json.error?.code, json.error?.message ?? `the supplier sandbox answered ${response.status}`);
    return json;
  }
  const order = (externalId: string) => `/orders/${encodeURIComponent(externalId)}`;

  const client = {
    settings: () => call<SandboxSettings>('GET', '/config'),
    configure: (settings: { webhookUrl?: string | null; delaysMs?: Partial<DelaysMs>; splitShipmentsEvery?: number }) => call<SandboxSettings>('POST', '/config', settings),
    faults: () => call<Faults>('GET', '/faults'),
    addFaults: (faults: FaultRequest) => call<Faults>('POST', '/faults', faults),
    /** Clears every fault; events held back by reorderWebhooks are sent (newest first). */
    resetFaults: () => call<Faults>('DELETE', '/faults'),
    /** Every order, oldest first. */
    orders: async () => (await call<{ data: SandboxOrder[] }>('GET', '/orders')).data,
    order: (externalId: string) => call<SandboxOrder>('GET', order(externalId)),
    /** Moves an order forward by hand, through every step in between (each with its webhook). */
    advance: (externalId: string, to: OrderStatus) => call<SandboxOrder>('POST', `${order(externalId)}/advance`, { to }),
    /** How many packages an order that has not shipped yet goes out in. */
    split: (externalId: string, packages: 1 | 2 = 2) => call<SandboxOrder>('POST', `${order(externalId)}/split`, { packages }),
    /** Every webhook event, oldest first, with its delivery attempts and outcome. */
    events: async (filter: { type?: string; externalId?: string } = {}) => {
      const query = new URLSearchParams(Object.entries(filter).filter(([, value]) => value !== undefined) as Array<[string, string]>).toString();
      return (await call<{ data: DeliveryReport[] }>('GET', `/events${query ? `?${query}` : ''}`)).data;
    },
    event: (eventId: string) => call<DeliveryReport>('GET', `/events/${encodeURIComponent(eventId)}`),
    resend: (eventId: string) => call<DeliveryReport>('POST', `/events/${encodeURIComponent(eventId)}/resend`, {}),
    /** The API calls received, oldest first. */
    requests: async () => (await call<{ data: ApiRequestRecord[] }>('GET', '/requests')).data,
    clearRequests: () => call<{ data: [] }>('DELETE', '/requests'),
    /** Polls the events until `done` holds, or fails after `timeoutMs` naming what it saw last. */
    async waitForEvents(done: (events: DeliveryReport[]) => boolean, timeoutMs = 5000): Promise<DeliveryReport[]> {
      return poll(() => client.events(), done, timeoutMs, (events) => events.map((e) => `${e.type}=${e.outcome}`).join(', '));
    },
    /** Polls an order until it exists and `done` holds (e.g. it reached a status). */
    async waitForOrder(externalId: string, done: (order: SandboxOrder) => boolean, timeoutMs = 5000): Promise<SandboxOrder> {
      const read = () => client.order(externalId).catch((error: unknown) => {
        if (error instanceof SupplierSandboxError && error.status === 404) return null;
        throw error;
      });
      const order = await poll(read, (found) => found !== null && done(found), timeoutMs, (last) => (last ? `${last.external_id} is ${last.status}` : `there is no order ${externalId}`));
      return order as SandboxOrder;
    },
  };
  return client;
}

export type SupplierSandboxClient = ReturnType<typeof supplierSandboxClient>;

async function poll<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, describe: (value: T) => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`the supplier sandbox did not get there in ${timeoutMs} ms: ${describe(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
