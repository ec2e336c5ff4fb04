/** A message the sandbox accepted, as it was posted. */
export interface ReceivedAlertMessage {
  /** The sandbox's own id ("1", "2", …), never reused, not even after a clear. */
  id: string;
  /** The last segment of the webhook URL it was posted to (`tanktop` for /hooks/tanktop). */
  hook: string;
  receivedAt: Date;
  /** The JSON body: Slack's `text` and `blocks`, and whatever else the sender put in. */
  payload: Record<string, unknown>;
}

export interface AlertStore {
  add(hook: string, payload: Record<string, unknown>): ReceivedAlertMessage;
  /** Newest first. */
  list(): ReceivedAlertMessage[];
  clear(): void;
}

/** Accepted messages in memory, the newest `maxMessages` (a sandbox left running cannot eat the machine). */
export function createAlertStore(maxMessages = 500): AlertStore {
  // Oldest first: trimming shifts from the front.
  const messages: ReceivedAlertMessage[] = [];
  let lastId = 0;
  return {
    add(hook, payload) {
      const message = { id: String(++lastId), hook, receivedAt: new Date(), payload };
      messages.push(message);
      while (messages.length > maxMessages) messages.shift();
      return message;
    },
    list: () => messages.toReversed(),
    clear() {
      messages.length = 0;
    },
  };
}
