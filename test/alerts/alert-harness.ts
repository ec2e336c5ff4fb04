import type { PgBoss, UpdateQueueOptions } from 'pg-boss';
import type { Test } from 'tap';
import { ALERT_SEND_QUEUE } from '../../src/alerts/alerts.queues.ts';
import { registerAlertWorkers } from '../../src/alerts/alerts.workers.ts';
import { raiseAlert, type AlertRequest, type RaisedAlert } from '../../src/alerts/raise-alert.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Db } from '../../src/db/kysely.ts';
import { startAlertSandbox, type AlertSandbox } from '../../src/sandboxes/alerts/alert-sandbox.ts';
import { freshDatabase, testLog, type TestDatabase } from '../helpers/database.ts';
import { startTestBoss } from '../helpers/job-queue.ts';

/** A message as the alert sandbox's JSON API lists it. */
export interface ChannelMessage {
  id: string;
  hook: string;
  receivedAt: string;
  text: string | null;
  blocks: { type: string; text?: { type: string; text: string }; fields?: { type: string; text: string }[]; elements?: { type: string; text: string }[] }[];
  payload: Record<string, unknown>;
}

export interface AlertChannel {
  messages(): Promise<ChannelMessage[]>;
  faults(faults: { down?: boolean; failNext?: number; slowMs?: number }): Promise<void>;
}

export interface AlertHarness extends TestDatabase {
  boss: PgBoss;
  sandbox: AlertSandbox;
  channel: AlertChannel;
  config: Config;
  /** raiseAlert in a transaction of its own. */
  raise(request: AlertRequest): Promise<RaisedAlert>;
  /** Starts the alert__send worker (polling every 0.5 s), stopped at teardown. */
  startSender(options?: { concurrency?: number }): Promise<void>;
  alertRow(id: string): Promise<AlertRow>;
  /** alert__send jobs in any state. */
  sendJobs(): Promise<{ id: string; state: string; data: { alertId: string } }[]>;
}

export type AlertRow = Awaited<ReturnType<typeof selectAlert>>;

/** Retries a second apart, so the tests that take the channel down wait seconds, not minutes. */
export const quickRetries: UpdateQueueOptions = { retryDelay: 1, retryBackoff: true, retryDelayMax: 1 };

/**
 * A test database, pg-boss on it with every queue, the alert sandbox over
 * real HTTP, and a configuration pointing the sender at it. `env` adds alert
 * settings (ALERT_MAX_PER_MINUTE…); `sendQueue` changes alert__send's options
 * (retries) before anything is sent.
 */
export async function startAlertHarness(t: Test, options: { env?: Record<string, string>; sendQueue?: UpdateQueueOptions } = {}): Promise<AlertHarness> {
  const database = await freshDatabase(t, { poolSize: 6 });
  const sandbox = await startAlertSandbox({ log: testLog });
  t.teardown(() => sandbox.close());
  const boss = await startTestBoss(t, database.url);
  if (options.sendQueue) await boss.updateQueue(ALERT_SEND_QUEUE, options.sendQueue);
  const config = loadConfig({ ALERT_WEBHOOK_URL: sandbox.url, ...options.env });

  return {
    ...database,
    boss,
    sandbox,
    config,
    channel: alertChannel(sandbox.url),
    raise: (request) => raiseAlert(database.db, boss, request),
    async startSender(workerOptions = {}) {
      await registerAlertWorkers(boss, { db: database.db, log: testLog, config }, { pollingIntervalSeconds: 0.5, ...workerOptions });
      t.teardown(() => boss.offWork(ALERT_SEND_QUEUE, { wait: true }));
    },
    alertRow: (id) => selectAlert(database.db, id),
    async sendJobs() {
      const jobs = await boss.findJobs<{ alertId: string }>(ALERT_SEND_QUEUE);
      return jobs.map(({ id, state, data }) => ({ id, state, data }));
    },
  };
}

function selectAlert(db: Db, id: string) {
  return db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** The sandbox's JSON API and fault switch, over HTTP. */
export function alertChannel(webhookUrl: string): AlertChannel {
  const base = new URL(webhookUrl).origin;
  return {
    async messages() {
      const response = await fetch(`${base}/api/messages`);
      if (!response.ok) throw new Error(`GET /api/messages: ${response.status}`);
      return (await response.json()) as ChannelMessage[];
    },
    async faults(faults) {
      const response = await fetch(`${base}/_sandbox/faults`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults),
      });
      if (!response.ok) throw new Error(`POST /_sandbox/faults: ${response.status} ${await response.text()}`);
    },
  };
}

/** Every text of a Slack message (fallback, header, sections, fields, context), one per line. */
export function messageText(message: ChannelMessage): string {
  const parts = [message.text ?? ''];
  for (const block of message.blocks) {
    if (block.text) parts.push(block.text.text);
    for (const item of [...(block.fields ?? []), ...(block.elements ?? [])]) parts.push(item.text);
  }
  return parts.join('\n');
}

/** Polls until `check` returns a truthy value (which it returns), or fails after `timeoutMs` saying what it waited for. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const EMAIL_ADDRESS = /[^\s@]+@[^\s@]+\.[^\s@]+/;
