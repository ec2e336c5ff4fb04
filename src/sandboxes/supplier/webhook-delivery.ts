import type { Logger } from '../../logger.ts';
import { takeFault, type Faults } from './faults.ts';
import type { SupplierEvent } from './supplier-objects.ts';
import { signatureHeader } from './webhook-signature.ts';

export interface DeliveryAttempt {
  /** 1 for the event's delivery, 2 for a duplicate fault's copy, then one per resend. */
  copy: number;
  /** 1 for the first try of a copy, 2 for its first retry, … */
  attempt: number;
  at: string;
  url: string | null;
  /** The receiver's HTTP status, or null when it could not be reached. */
  status: number | null;
  error: string | null;
  durationMs: number;
}

export type DeliveryOutcome = 'pending' | 'delivered' | 'failed' | 'dropped' | 'held' | 'no_endpoint';

export interface DeliveryReport {
  id: string;
  type: string;
  created: string;
  externalId: string;
  outcome: DeliveryOutcome;
  attempts: DeliveryAttempt[];
  event: SupplierEvent;
}

export interface WebhookDelivery {
  /** Takes a new event: applies the webhook faults, then delivers in the background. */
  submit(event: SupplierEvent): void;
  /** Delivers an event once more (a new copy with its own retries); false for an unknown id. */
  resend(eventId: string): boolean;
  /** Sends what a reorder fault is holding, newest first. */
  releaseHeld(): void;
  reports(): DeliveryReport[];
  report(eventId: string): DeliveryReport | undefined;
  close(): Promise<void>;
}

export interface DeliveryOptions {
  secret: string;
  /** Read at every attempt: the control API may point it elsewhere meanwhile. */
  url: () => string | null;
  retryDelaysMs: readonly number[];
  faults: Faults;
  log: Logger;
  /** Deliveries in flight at once (default 1: first attempts leave in the order the events happened). */
  concurrency?: number;
  timeoutMs?: number;
}

interface EventRecord {
  event: SupplierEvent;
  /** The exact bytes sent: every attempt signs and sends the same body. */
  body: string;
  held: boolean;
  dropped: boolean;
  copies: Array<'pending' | 'delivered' | 'failed'>;
  attempts: DeliveryAttempt[];
}

interface Job {
  record: EventRecord;
  copy: number;
  attempt: number;
}

/**
 * Webhooks at least once: a signed POST of the event's JSON, retried after a
 * non-2xx answer or a network error with growing delays (a retry waits on its
 * own timer and never holds newer events back), every attempt recorded for
 * the control API and the page.
 */
export function createWebhookDelivery(options: DeliveryOptions): WebhookDelivery {
  const { secret, faults, log, retryDelaysMs } = options;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const records = new Map<string, EventRecord>();
  const queue: Job[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  const stop = new AbortController();
  let held: Array<{ record: EventRecord; copies: number }> = [];

  function later(ms: number, work: () => void): void {
    if (stop.signal.aborted) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  }

  function enqueue(job: Job): void {
    queue.push(job);
    pump();
  }

  function pump(): void {
    while (!stop.signal.aborted && inFlight.size < concurrency && queue.length > 0) {
      const job = queue.shift() as Job;
      const sending: Promise<void> = send(job)
        .catch((error: unknown) => log.error({ err: error }, 'webhook delivery broke'))
        .finally(() => {
          inFlight.delete(sending);
          pump();
        });
      inFlight.add(sending);
    }
  }

  async function send(job: Job): Promise<void> {
    const { record } = job;
    const url = options.url();
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    if (url === null) {
      error = 'no webhook URL is configured';
    } else {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'TanktopSupplierSandbox/1.0',
            'supplier-signature': signatureHeader(secret, record.body),
          },
          body: record.body,
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch (failure) {
        const cause = (failure as Error).cause;
        error = cause instanceof Error ? cause.message : (failure as Error).message;
      }
    }
    if (stop.signal.aborted) return;
    record.attempts.push({
      copy: job.copy, attempt: job.attempt, at: new Date().toISOString(), url, status, error,
      durationMs: Math.round(performance.now() - started),
    });
    const context = { eventId: record.event.id, type: record.event.type, attempt: job.attempt, status, error };
    if (status !== null && status >= 200 && status < 300) {
      record.copies[job.copy - 1] = 'delivered';
      log.debug(context, 'webhook delivered');
      return;
    }
    const delay = retryDelaysMs[job.attempt - 1];
    if (delay === undefined) {
      record.copies[job.copy - 1] = 'failed';
      log.warn(context, 'webhook delivery failed for good');
      return;
    }
    log.info({ ...context, retryInMs: delay }, 'webhook delivery failed; will retry');
    later(delay, () => enqueue({ ...job, attempt: job.attempt + 1 }));
  }

  function dispatch(record: EventRecord, copies: number): void {
    const jobs: Job[] = [];
    for (let i = 0; i < copies; i++) {
      record.copies.push('pending');
      jobs.push({ record, copy: record.copies.length, attempt: 1 });
    }
    if (faults.delayWebhooksMs > 0) later(faults.delayWebhooksMs, () => jobs.forEach(enqueue));
    else jobs.forEach(enqueue);
  }

  function releaseHeld(): void {
    const batch = held.reverse();
    held = [];
    for (const { record, copies } of batch) {
      record.held = false;
      dispatch(record, copies);
    }
  }

  function outcomeOf(record: EventRecord): DeliveryOutcome {
    if (record.held) return 'held';
    if (record.copies.length === 0) return record.dropped ? 'dropped' : 'no_endpoint';
    if (record.copies.includes('pending')) return 'pending';
    return record.copies.includes('delivered') ? 'delivered' : 'failed';
  }

  function toReport(record: EventRecord): DeliveryReport {
    const { event } = record;
    return {
      id: event.id, type: event.type, created: event.created, externalId: event.data.order.external_id,
      outcome: outcomeOf(record), attempts: [...record.attempts], event,
    };
  }

  return {
    submit(event) {
      const record: EventRecord = { event, body: JSON.stringify(event), held: false, dropped: false, copies: [], attempts: [] };
      records.set(event.id, record);
      if (options.url() === null) return;
      if (takeFault(faults, 'dropWebhooks')) {
        record.dropped = true;
        log.info({ eventId: event.id, type: event.type }, 'webhook dropped (fault)');
        return;
      }
      const copies = takeFault(faults, 'duplicateWebhooks') ? 2 : 1;
      if (takeFault(faults, 'reorderWebhooks')) {
        record.held = true;
        held.push({ record, copies });
        if (faults.reorderWebhooks === 0) releaseHeld();
        return;
      }
      dispatch(record, copies);
    },
    resend(eventId) {
      const record = records.get(eventId);
      if (!record) return false;
      record.held = false;
      held = held.filter((entry) => entry.record !== record);
      dispatch(record, 1);
      return true;
    },
    releaseHeld,
    reports: () => [...records.values()].map(toReport),
    report(eventId) {
      const record = records.get(eventId);
      return record && toReport(record);
    },
    async close() {
      stop.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      queue.length = 0;
      await Promise.all(inFlight);
    },
  };
}
