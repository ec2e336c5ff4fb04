import type { ReceivedAlertMessage } from './alert-store.ts';

/** A message as GET /api/messages gives it. */
export function messageJson(message: ReceivedAlertMessage) {
  return {
    id: message.id,
    hook: message.hook,
    receivedAt: message.receivedAt.toISOString(),
    text: typeof message.payload.text === 'string' ? message.payload.text : null,
    blocks: Array.isArray(message.payload.blocks) ? message.payload.blocks : [],
    payload: message.payload,
  };
}

/**
 * A message as the page shows it: the fallback text and each block's text as
 * plain lines. mrkdwn is not rendered (the page shows what was sent, Slack's
 * `&lt;` escapes decoded back); the template escapes everything.
 */
export function messageRow(message: ReceivedAlertMessage) {
  const blocks = Array.isArray(message.payload.blocks) ? message.payload.blocks : [];
  return {
    id: message.id,
    hook: message.hook,
    iso: message.receivedAt.toISOString(),
    time: `${message.receivedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC`,
    text: typeof message.payload.text === 'string' ? unescapeSlack(message.payload.text) : '',
    header: blocks.map(headerText).find((text) => text !== null) ?? null,
    lines: blocks.flatMap(blockLines).map(unescapeSlack),
  };
}

function headerText(block: unknown): string | null {
  const { type, text } = (block ?? {}) as { type?: unknown; text?: { text?: unknown } };
  return type === 'header' && typeof text?.text === 'string' ? unescapeSlack(text.text) : null;
}

function blockLines(block: unknown): string[] {
  const { type, text, fields, elements } = (block ?? {}) as { type?: unknown; text?: { text?: unknown }; fields?: unknown; elements?: unknown };
  if (type === 'header') return [];
  const lines: string[] = [];
  if (typeof text?.text === 'string') lines.push(text.text);
  for (const part of [fields, elements]) {
    if (!Array.isArray(part)) continue;
    for (const item of part) {
      const value = (item as { text?: unknown } | null)?.text;
      if (typeof value === 'string') lines.push(value.replace(/\n/g, ': '));
    }
  }
  return lines;
}

/** Slack's three escapes in message text. */
function unescapeSlack(value: string): string {
  return value.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
