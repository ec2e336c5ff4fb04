import { redactEmailAddresses, shorten } from './alert-content.ts';
import type { AlertSeverity } from './alerts.schema.ts';

/**
 * Everything an alert's message may show, and nothing more: the content rule
 * (docs/alerts.md) is enforced by what this type lets through.
 */
export interface AlertForMessage {
  id: string;
  incidentKey: string;
  severity: AlertSeverity;
  title: string;
  text: string;
  orderId: string | null;
  orderNumber: string | null;
  occurrences: number;
  firstRaisedAt: Date;
  lastRaisedAt: Date;
}

/** The body of a Slack incoming-webhook request: `text` is the notification's fallback, `blocks` the message. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

type PlainText = { type: 'plain_text'; text: string; emoji?: boolean };
type Markdown = { type: 'mrkdwn'; text: string };
export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text?: Markdown; fields?: Markdown[] }
  | { type: 'context'; elements: Markdown[] };

const SEVERITY = {
  critical: { emoji: ':rotating_light:', label: 'Critical' },
  warning: { emoji: ':warning:', label: 'Warning' },
} as const satisfies Record<AlertSeverity, { emoji: string; label: string }>;

/** Slack's limits: a header's text 150 characters, a section's text 3,000, a field's 2,000. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;

/**
 * A Slack message for an alert: a header with the severity's emoji and the
 * title, the text, then the order, occurrences and incident key as fields.
 * Everything from the row is escaped for mrkdwn (`&`, `<`, `>`), so a title
 * cannot become a link or an `<!channel>` mention, and any e-mail address a
 * row written around raiseAlert might hold is blanked out.
 */
export function slackMessage(alert: AlertForMessage): SlackMessage {
  const { emoji, label } = SEVERITY[alert.severity];
  const title = redactEmailAddresses(alert.title);
  const text = redactEmailAddresses(alert.text);
  const order = alert.orderId === null ? null : alert.orderNumber ? `${alert.orderNumber} (id ${alert.orderId})` : `id ${alert.orderId}`;
  const occurrences = alert.occurrences === 1
    ? `1 (${isoMinute(alert.firstRaisedAt)})`
    : `${alert.occurrences} (first ${isoMinute(alert.firstRaisedAt)}, last ${isoMinute(alert.lastRaisedAt)})`;

  const fields: Markdown[] = [
    ...(order ? [markdown(`*Order*\n${escape(order)}`)] : []),
    markdown(`*Occurrences*\n${occurrences}`),
    markdown(`*Severity*\n${label}`),
    markdown(`*Incident*\n\`${escape(redactEmailAddresses(alert.incidentKey))}\``),
  ];
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: shorten(`${emoji} ${title}`, HEADER_MAX), emoji: true } },
    ...(text ? [{ type: 'section' as const, text: markdown(shorten(escape(text), SECTION_MAX)) }] : []),
    { type: 'section', fields },
    { type: 'context', elements: [markdown(`Tanktop alert ${alert.id}`)] },
  ];
  const fallback = [`${emoji} ${label}: ${title}`, order ? `order ${order}` : null, alert.occurrences > 1 ? `${alert.occurrences} times` : null]
    .filter(Boolean).join(' · ');
  return { text: escape(fallback), blocks };
}

function markdown(text: string): Markdown {
  return { type: 'mrkdwn', text };
}

/** Slack's three control characters in message text. */
function escape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function isoMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
