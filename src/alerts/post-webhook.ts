import type { SlackMessage } from './slack-message.ts';

/** What the chat service answered, when it was not a 2xx. */
export class WebhookError extends Error {
  override name = 'WebhookError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * POSTs a message to an incoming webhook and resolves once it answered 2xx
 * (Slack answers `ok`). Rejects on any other answer, a timeout (the whole
 * exchange, body included, within `timeoutMs`) or a network error. Redirects
 * are refused: a webhook that moved is a configuration to fix, not to follow.
 * The URL is a secret: no error message carries it.
 */
export async function postWebhook(url: string, message: SlackMessage, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(message),
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Error(describeFetchError(error, timeoutMs), { cause: error });
  }
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    throw new Error(describeFetchError(error, timeoutMs), { cause: error });
  }
  if (!response.ok) {
    const said = body.replace(/\s+/g, ' ').trim().slice(0, 200);
    throw new WebhookError(response.status, `the alert webhook answered ${response.status}${said ? `: ${said}` : ''}`);
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `the alert webhook did not answer within ${timeoutMs} ms`;
  }
  // undici: TypeError('fetch failed') with the socket's error as its cause (ECONNREFUSED host:port; no path).
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `the alert webhook could not be reached: ${code && !cause.message.includes(code) ? `${code}: ` : ''}${cause.message}`;
  }
  return `the alert webhook could not be reached: ${error instanceof Error ? error.message : String(error)}`;
}
