import { JsonTooDeepError, toStorableJson } from './storable-json.ts';

/** What a verified body holds: a storable JSON value, or why it has none. */
export type WebhookPayload =
  | { ok: true; value: unknown; faithful: boolean }
  | { ok: false; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a verified webhook body as JSON that Postgres will store (see
 * storable-json.ts). `faithful` is false when something had to be replaced
 * (invalid UTF-8, NUL, lone surrogates, an unrepresentable number): the inbox
 * then keeps the raw bytes beside the payload. Never throws: a body that is
 * not JSON, or is nested too deeply, is a reason, and the route refuses the
 * event with it.
 */
export function readWebhookPayload(body: Buffer): WebhookPayload {
  let text: string;
  let faithful = true;
  try {
    text = utf8.decode(body);
  } catch {
    text = body.toString('utf8');
    faithful = false;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  try {
    const storable = toStorableJson(parsed);
    return { ok: true, value: storable.value, faithful: faithful && !storable.changed };
  } catch (error) {
    if (error instanceof JsonTooDeepError) return { ok: false, reason: `the body is ${error.message}` };
    throw error;
  }
}

/** The longest event id kept as the inbox's key (the providers' are about 30 characters; a btree key has a size limit). */
export const MAX_EVENT_ID_LENGTH = 255;
export const MAX_EVENT_TYPE_LENGTH = 255;

/** The id and type of an event, when it has usable ones: non-empty strings of sensible length. */
export function eventIdentity(value: unknown): { id: string; type: string } | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { id, type } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || id.length > MAX_EVENT_ID_LENGTH) return null;
  if (typeof type !== 'string' || type === '' || type.length > MAX_EVENT_TYPE_LENGTH) return null;
  return { id, type };
}
