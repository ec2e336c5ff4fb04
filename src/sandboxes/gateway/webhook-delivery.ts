import type { Logger } from '../../logger.ts';
import { takeFault, type Faults } from './faults.ts';
import type { StripeEvent } from './stripe-objects.ts';
import { signatureHeader } from './webhook-signature.ts';

export interface DeliveryAttempt {
  /** 1 for the event's delivery; 2 for the copy a duplicate fault sends, 3… for resends. */
  copy: number;
  /** 1 for the first try, 2 for the first retry, … */
  attempt: number;
  at: string;
  url: string | null;
  /** The receiver's HTTP status, or null when it could not be reached. */
  status: number | null;
  error: string | null;
  durationMs: number;
}

export type DeliveryOutcome = 'pending' | 'delivered' | 'failed' | 'dropped' | 'held' | 'no_endpoint';

interface DeliveryRecord {
  event: StripeEvent;
  held: boolean;
  dropped: boolean;
  copies: Array<'pending' | 'delivered' | 'failed'>;
  attempts: DeliveryAttempt[];
}

interface Job {
  record: DeliveryRecord;
  copy: number;
  attempt: number;
}

export interface DeliveryReport {
  id: string;
  type: string;
  created: number;
  outcome: DeliveryOutcome;
  attempts: DeliveryAttempt[];
  event: StripeEvent;
}

export interface WebhookDelivery {
  /** Takes a new event: applies the faults, then delivers in the background. */
  submit(event: StripeEvent): void;
  /** Delivers an event once more (a new copy, with its own retries). */
  resend(eventId: string): boolean;
  /** Sends the events a reorder fault is holding, newest first. */
  releaseHeld(): void;
  outcome(eventId: string): DeliveryOutcome | undefined;
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
  /** Deliveries in flight at once (default 1: events arrive in the order they happened unless a fault says otherwise). */
  concurrency?: number;
  timeoutMs?: number;
}

/**
 * Webhook delivery as Stripe does it, at least once: a POST of the event's
 * JSON signed with the endpoint secret, retried after a non-2xx answer or a
 * network error with growing delays, every attempt recorded. First attempts
 * leave in the order the events happened, one at a time by default (so a
 * test sees a predictable order unless it asks for another; a benchmark may
 * allow more at once); a retry waits on its own timer and never holds back
 * newer events.
 */
export function createWebhookDelivery(options: DeliveryOptions): WebhookDelivery {
  const { secret, faults, log, retryDelaysMs } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const records = new Map<string, DeliveryRecord>();
  const queue: Job[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const stop = new AbortController();
  let held: Array<{ record: DeliveryRecord; copies: number }> = [];
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const workers = new Set<Promise<void>>();
  let running = 0;

  function later(ms: number, work: () => void): void {
    if (stop.signal.aborted) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  }

  function enqueue(job: Job): void {
    if (stop.signal.aborted) return;
    queue.push(job);
    if (running >= concurrency) return;
    running++;
    const worker: Promise<void> = work()
      .catch((error: unknown) => log.error({ err: error }, 'webhook delivery stopped'))
      .finally(() => workers.delete(worker));
    workers.add(worker);
  }

  async function work(): Promise<void> {
    try {
      // Let the emitter finish its synchronous work (a payment emits two events) before the first send.
      await Promise.resolve();
      for (let job = queue.shift(); job && !stop.signal.aborted; job = queue.shift()) {
        await attempt(job);
      }
    } finally {
      // In the same turn as the loop's last look at the queue: a job enqueued later starts a new worker.
      running--;
    }
  }

  async function attempt(job: Job): Promise<void> {
    const { record } = job;
    // The event never changes, so every attempt signs and sends the same bytes (not kept: a long run makes many events).
    const body = JSON.stringify(record.event, null, 2);
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
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'stripe-signature': signatureHeader(secret, body),
          },
          body,
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch (failure) {
        error = (failure as Error).cause instanceof Error ? ((failure as Error).cause as Error).message : (failure as Error).message;
      }
    }
    const ok = status !== null && status >= 200 && status < 300;
    record.attempts.push({
      copy: job.copy, attempt: job.attempt, at: new Date().toISOString(), url, status, error,
      durationMs: Math.round(performance.now() - started),
    });
    const context = { eventId: record.event.id, type: record.event.type, attempt: job.attempt, status, error };
    if (ok) {
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

  function dispatch(record: DeliveryRecord, copies: number): void {
    const jobs: Job[] = [];
    for (let i = 0; i < copies; i++) {
      record.copies.push('pending');
      jobs.push({ record, copy: record.copies.length, attempt: 1 });
    }
    const delay = faults.delayWebhooksMs;
    if (delay > 0) later(delay, () => jobs.forEach(enqueue));
    else jobs.forEach(enqueue);
  }

  function release(): void {
    const batch = held.reverse();
    held = [];
    for (const { record, copies } of batch) {
      record.held = false;
      dispatch(record, copies);
    }
  }

  function outcomeOf(record: DeliveryRecord): DeliveryOutcome {
    if (record.held) return 'held';
    if (record.copies.length === 0) return record.dropped ? 'dropped' : 'no_endpoint';
    if (record.copies.includes('pending')) return 'pending';
    return record.copies.includes('delivered') ? 'delivered' : 'failed';
  }

  function toReport(record: DeliveryRecord): DeliveryReport {
    const { event } = record;
    return { id: event.id, type: event.type, created: event.created, outcome: outcomeOf(record), attempts: [...record.attempts], event };
  }

  return {
    submit(event) {
      const record: DeliveryRecord = { event, held: false, dropped: false, copies: [], attempts: [] };
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
        if (faults.reorderWebhooks === 0) release();
        return;
      }
      dispatch(record, copies);
    },
    resend(eventId) {
      const record = records.get(eventId);
      if (!record) return false;
      dispatch(record, 1);
      return true;
    },
    releaseHeld: release,
    outcome: (eventId) => {
      const record = records.get(eventId);
      return record && outcomeOf(record);
    },
    reports: () => [...records.values()].map(toReport),
    report: (eventId) => {
      const record = records.get(eventId);
      return record && toReport(record);
    },
    async close() {
      stop.abort();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      queue.length = 0;
      await Promise.all(workers);
    },
  };
}
