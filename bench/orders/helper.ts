/** The main thread's handle on the helper thread (sandboxes, mailbox watcher, webhook client). */
import { Worker } from 'node:worker_threads';
import { HELPER_THREAD_NAME } from './cpu.ts';
import type { DeliverySummary, HelperSettings, PayOutcome, PayRequest } from './helper-thread.ts';
import type { SeenMessage } from './mailbox-watch.ts';
import type { WebhookLoadOptions, WebhookLoadRaw } from './webhook-client.ts';

/** Every message the mailbox received, by Message-ID. */
export interface Mailbox {
  /** Message-ID → times it arrived (more than one: a duplicate). */
  readonly received: Map<string, number[]>;
  /** Messages received in all (the sandbox's last id). */
  total(): number;
  /** Messages the watcher could not see (the sandbox had dropped them before a poll). */
  missed(): number;
  /** Resolves once `count` messages in all have arrived, or `signal` aborts. */
  waitForTotal(count: number, signal: AbortSignal): Promise<void>;
}

export interface Helper {
  gatewayUrl: string;
  smtpUrl: string;
  mailUrl: string;
  /** With a supplier in HelperSettings: the supplier sandbox's base URL (API under /v1, control API under /_sandbox). */
  supplierUrl: string | undefined;
  mailbox: Mailbox;
  /** Pays checkout sessions through the gateway's control API, from the helper thread. */
  pay(request: PayRequest): Promise<PayOutcome[]>;
  webhookLoad(options: WebhookLoadOptions): Promise<WebhookLoadRaw>;
  deliveries(): Promise<DeliverySummary>;
  /** Polls the mailbox once more; what it finds is in `mailbox` when this resolves. */
  pollMail(): Promise<void>;
  close(): Promise<void>;
}

interface Urls {
  gatewayUrl: string;
  smtpUrl: string;
  mailUrl: string;
  supplierUrl: string | undefined;
}

export async function startHelper(settings: HelperSettings): Promise<Helper> {
  const thread = new Worker(new URL('./helper-thread.ts', import.meta.url), { workerData: settings, name: HELPER_THREAD_NAME });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let total = 0;
  let missed = 0;
  const received = new Map<string, number[]>();
  const waiters = new Set<{ count: number; resolve(): void }>();
  let failed: Error | undefined;

  const ready = new Promise<Urls>((resolve, reject) => {
    thread.on('message', (message: { ready?: Urls; mail?: SeenMessage[]; missed?: number; id?: number; result?: unknown; error?: string }) => {
      if (message.ready) return resolve(message.ready);
      if (message.mail) {
        missed += message.missed ?? 0;
        for (const seen of message.mail) {
          total = Math.max(total, seen.id);
          const key = seen.messageId ?? `(no Message-ID) ${seen.id}`;
          received.set(key, [...(received.get(key) ?? []), seen.receivedAt]);
        }
        for (const waiter of waiters) if (total >= waiter.count) waiter.resolve();
        return;
      }
      const call = message.id === undefined ? undefined : pending.get(message.id);
      if (!call) return;
      pending.delete(message.id!);
      if (message.error !== undefined) call.reject(new Error(`helper thread: ${message.error}`));
      else call.resolve(message.result);
    });
    thread.on('error', (error) => {
      failed = error;
      reject(error);
      for (const call of pending.values()) call.reject(error);
      pending.clear();
    });
  });

  function call<T>(name: string, args?: unknown): Promise<T> {
    if (failed) return Promise.reject(failed);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      thread.postMessage({ call: name, id, args });
    });
  }

  let urls;
  try {
    urls = await ready;
  } catch (error) {
    await thread.terminate();
    throw error;
  }
  return {
    ...urls,
    mailbox: {
      received,
      total: () => total,
      missed: () => missed,
      waitForTotal(count, signal) {
        if (total >= count || signal.aborted) return Promise.resolve();
        return new Promise<void>((resolve) => {
          const waiter = { count, resolve: () => { waiters.delete(waiter); signal.removeEventListener('abort', waiter.resolve); resolve(); } };
          waiters.add(waiter);
          signal.addEventListener('abort', waiter.resolve, { once: true });
        });
      },
    },
    pay: (request) => call<PayOutcome[]>('pay', request),
    webhookLoad: (options) => call<WebhookLoadRaw>('webhookLoad', options),
    deliveries: () => call<DeliverySummary>('deliveries'),
    pollMail: () => call<void>('pollMail'),
    async close() {
      try {
        if (!failed) await Promise.race([call('close'), new Promise((resolve) => setTimeout(resolve, 10_000))]);
      } finally {
        await thread.terminate();
      }
    },
  };
}
