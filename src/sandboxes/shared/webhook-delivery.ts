import type { Logger } from '../../logger.ts';
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

/** The webhook faults both sandboxes offer; each sandbox's Faults holds these among its own. */
export interface WebhookFaults {
  /** The next n events are delivered twice. */
  duplicateWebhooks: number;
  /** The next n events are held back, then delivered newest first. */
  reorderWebhooks: number;
  /** Every delivery waits this long before its first attempt. */
  delayWebhooksMs: number;
  /** The next n events are never delivered (recorded as dropped). */
  dropWebhooks: number;
}

export interface WebhookDelivery<Event, Report> {
  /** Takes a new event: applies the webhook faults, then delivers in the background. */
  submit(event: Event): void;
  /** Delivers an event once more (a new copy with its own retries); false for an unknown id. */
  resend(eventId: string): boolean;
  /** Sends what a reorder fault is holding, newest first. */
  releaseHeld(): void;
  outcome(eventId: string): DeliveryOutcome | undefined;
  reports(): Report[];
  report(eventId: string): Report | undefined;
  close(): Promise<void>;
}

/** What the sandbox's context supplies. */
export interface DeliveryOptions {
  secret: string;
  /** Read at every attempt: the control API may point it elsewhere meanwhile. */
  url: () => string | null;
  /** Whether there is a URL at all, when an event is submitted; without it, url() is asked (which a round-robin target would advance). */
  hasUrl?: () => boolean;
  retryDelaysMs: readonly number[];
  faults: WebhookFaults;
  log: Logger;
  /** Deliveries in flight at once (default 1: first attempts leave in the order the events happened unless a fault says otherwise). */
  concurrency?: number;
  timeoutMs?: number;
}

/** What makes one sandbox's webhooks its own. */
export interface WebhookFormat<Event, Report> {
  /** Lower-case name of the header that carries the signature. */
  signatureHeader: string;
  userAgent: string;
  /** Called once when an event is submitted; every attempt sends (and signs) what the returned function gives. */
  body(event: Event): () => string;
  /** The view of an event and its delivery that the control API and pages show. */
  report(event: Event, delivery: { outcome: DeliveryOutcome; attempts: DeliveryAttempt[] }): Report;
  /** Whether resending an event a reorder fault is holding also stops holding it (else it sends a copy and stays held). */
  resendReleasesHeld: boolean;
}

interface DeliveryRecord<Event> {
  event: Event;
  body: () => string;
  held: boolean;
  dropped: boolean;
  copies: Array<'pending' | 'delivered' | 'failed'>;
  attempts: DeliveryAttempt[];
}

interface Job<Event> {
  record: DeliveryRecord<Event>;
  copy: number;
  attempt: number;
}

/**
 * Webhooks at least once: a signed POST of the event's JSON, retried after a
 * non-2xx answer or a network error with growing delays, every attempt
 * recorded. First attempts leave in the order the events happened, one at a
 * time by default (so a test sees a predictable order unless it asks for
 * another; a benchmark may allow more at once); a retry waits on its own
 * timer and never holds back newer events.
 */
export function createWebhookDelivery<Event extends { id: string; type: string }, Report>(
  options: DeliveryOptions & WebhookFormat<Event, Report>,
): WebhookDelivery<Event, Report> {
  const { secret, faults, log, retryDelaysMs } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const records = new Map<string, DeliveryRecord<Event>>();
  const queue: Array<Job<Event>> = [];
  const timers = new Set<NodeJS.Timeout>();
  const workers = new Set<Promise<void>>();
  const stop = new AbortController();
  let held: Array<{ record: DeliveryRecord<Event>; copies: number }> = [];
  let running = 0;

  function later(ms: number, work: () => void): void {
    if (stop.signal.aborted) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  }

  function enqueue(job: Job<Event>): void {
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

  async function attempt(job: Job<Event>): Promise<void> {
    const { record } = job;
    const body = record.body();
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
            'user-agent': options.userAgent,
            [options.signatureHeader]: signatureHeader(secret, body),
          },
          body,
          signal: AbortSignal.any([stop.signal, AbortSignal.timeout(timeoutMs)]),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch (failure) {
        const cause = (failure as Error).cause;
        error = cause instanceof Error ? cause.message : (failure as Error).message;
      }
    }
    // A send that close() cut short is not the receiver's failure: record nothing.
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

  function dispatch(record: DeliveryRecord<Event>, copies: number): void {
    const jobs: Array<Job<Event>> = [];
    for (let i = 0; i < copies; i++) {
      record.copies.push('pending');
      jobs.push({ record, copy: record.copies.length, attempt: 1 });
    }
    const delay = faults.delayWebhooksMs;
    if (delay > 0) later(delay, () => jobs.forEach(enqueue));
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

  function outcomeOf(record: DeliveryRecord<Event>): DeliveryOutcome {
    if (record.held) return 'held';
    if (record.copies.length === 0) return record.dropped ? 'dropped' : 'no_endpoint';
    if (record.copies.includes('pending')) return 'pending';
    return record.copies.includes('delivered') ? 'delivered' : 'failed';
  }

  function toReport(record: DeliveryRecord<Event>): Report {
    return options.report(record.event, { outcome: outcomeOf(record), attempts: [...record.attempts] });
  }

  return {
    submit(event) {
      const record: DeliveryRecord<Event> = { event, body: options.body(event), held: false, dropped: false, copies: [], attempts: [] };
      records.set(event.id, record);
      if (!(options.hasUrl ? options.hasUrl() : options.url() !== null)) return;
      if (take(faults, 'dropWebhooks')) {
        record.dropped = true;
        log.info({ eventId: event.id, type: event.type }, 'webhook dropped (fault)');
        return;
      }
      const copies = take(faults, 'duplicateWebhooks') ? 2 : 1;
      if (take(faults, 'reorderWebhooks')) {
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
      if (options.resendReleasesHeld) {
        record.held = false;
        held = held.filter((entry) => entry.record !== record);
      }
      dispatch(record, 1);
      return true;
    },
    releaseHeld,
    outcome(eventId) {
      const record = records.get(eventId);
      return record && outcomeOf(record);
    },
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
      await Promise.all(workers);
    },
  };
}

/** Uses up one of a counted webhook fault; true when it applies. */
function take(faults: WebhookFaults, key: 'duplicateWebhooks' | 'reorderWebhooks' | 'dropWebhooks'): boolean {
  if (faults[key] <= 0) return false;
  faults[key]--;
  return true;
}
