/**
 * A paced (open-loop) client for POST /webhooks/stripe: request i leaves at
 * start + i / rate whatever the answers before it, so a slow answer cannot
 * hold back the next request and hide its own cost (no coordinated omission).
 * Each request is an event of its own: a template with a fresh id and
 * created time, signed as Stripe signs (the gateway sandbox's own signer).
 * Runs in the helper thread: its timers and sockets stay off the app's loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { signatureHeader } from '../../src/sandboxes/shared/webhook-signature.ts';

export interface WebhookLoadOptions {
  url: string;
  secret: string;
  rate: number;
  seconds: number;
  /** Event objects (parsed JSON) to send copies of, in turn. */
  templates: Record<string, unknown>[];
  /** Prefix of the fresh event ids (unique per run). */
  idPrefix: string;
}

export interface WebhookLoadRaw {
  requests: number;
  seconds: number;
  statuses: Record<string, number>;
  errors: number;
  /** Client latency of each answered request, ms (send to full answer). */
  latencies: number[];
  maxSendLag: number;
  /** The event ids sent. */
  eventIds: string[];
}

export async function runWebhookLoad(options: WebhookLoadOptions): Promise<WebhookLoadRaw> {
  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const eventIds: string[] = [];
  let errors = 0;
  let maxSendLag = 0;
  const inFlight = new Set<Promise<void>>();

  const send = (i: number) => {
    const template = options.templates[i % options.templates.length]!;
    const id = `${options.idPrefix}_${i}`;
    eventIds.push(id);
    const body = JSON.stringify({ ...template, id, created: Math.floor(Date.now() / 1000) });
    const started = performance.now();
    const request = fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': signatureHeader(options.secret, body) },
      body,
    }).then(async (response) => {
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    }, () => {
      errors++;
    }).finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  const start = performance.now();
  for (let i = 0; i < total;) {
    const now = performance.now();
    const due = start + i * interval;
    if (due > now) {
      await sleep(Math.max(1, due - now));
      continue;
    }
    maxSendLag = Math.max(maxSendLag, now - due);
    send(i++);
  }
  await Promise.all(inFlight);
  return { requests: total, seconds: (performance.now() - start) / 1000, statuses, errors, latencies, maxSendLag, eventIds };
}
