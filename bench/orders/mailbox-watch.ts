/**
 * Watches the mail sandbox's mailbox and reports every new message once, with
 * the time the sandbox stored it. Runs in the helper thread.
 *
 * The sandbox numbers messages 1, 2, 3… (never reused) and keeps the newest
 * 500. Listing them all (GET /api/messages) costs megabytes of JSON a poll, so
 * the watcher asks for the next id instead (GET /api/messages/:id), and
 * for a window of ids once it exists: its cost follows the mail that arrives. An id that is missing below one that exists was dropped by
 * the sandbox before the watcher saw it, and is reported as missed.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface SeenMessage {
  id: number;
  messageId: string | null;
  /** ms since the epoch: the sandbox's receivedAt. */
  receivedAt: number;
  to: string[];
  attachments: number;
}

interface ApiMessage {
  id: string;
  messageId: string | null;
  receivedAt: string;
  to: string[];
  attachments: unknown[];
}

export const MAILBOX_POLL_MS = 250;
const WINDOW = 32;
/** A window is asked for at least this often even when the next id is missing (it may have been dropped). */
const WIDE_LOOK_MS = 5_000;

export function watchMailbox(mailUrl: string, report: (messages: SeenMessage[], missed: number) => void): { stop(): Promise<void>; poll(): Promise<void> } {
  let lastId = 0;
  let lastWideLook = 0;
  let stopped = false;
  let polling: Promise<boolean> = Promise.resolve(false);

  async function fetchMessage(id: number): Promise<ApiMessage | undefined> {
    const response = await fetch(`${mailUrl}/api/messages/${id}`);
    if (response.status === 404) {
      await response.arrayBuffer();
      return undefined;
    }
    if (!response.ok) throw new Error(`the mailbox answered ${response.status}`);
    return await response.json() as ApiMessage;
  }

  /**
   * The next id, and when it exists (or every few seconds, in case it was
   * dropped) a window of ids after it; true when the window came back full.
   */
  async function pollOnce(): Promise<boolean> {
    if (performance.now() - lastWideLook < WIDE_LOOK_MS) {
      const next = await fetchMessage(lastId + 1);
      if (!next) return false;
    }
    lastWideLook = performance.now();
    const ids = Array.from({ length: WINDOW }, (_, i) => lastId + 1 + i);
    const found = (await Promise.all(ids.map(fetchMessage))).filter((message): message is ApiMessage => message !== undefined);
    if (found.length === 0) return false;
    const highest = Math.max(...found.map((message) => Number(message.id)));
    const missed = highest - lastId - found.length;
    lastId = highest;
    report(found.map((message) => ({
      id: Number(message.id), messageId: message.messageId, receivedAt: Date.parse(message.receivedAt),
      to: message.to, attachments: message.attachments.length,
    })), missed);
    return found.length === WINDOW;
  }

  const loop = (async () => {
    while (!stopped) {
      polling = pollOnce().catch(() => false); // a failed poll is retried by the next one
      if (!(await polling)) await sleep(MAILBOX_POLL_MS);
    }
  })();

  return {
    /** Polls until nothing new is left, after any poll in flight: everything stored so far is reported when it resolves. */
    async poll() {
      await polling;
      do polling = pollOnce(); while (await polling);
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
