import { ALERT_SEVERITIES, type AlertSeverity } from './alerts.schema.ts';

/**
 * What an alert may say. Alerts go to a chat channel that more people read,
 * for longer, than the order's own records: they carry the order id or number
 * and what went wrong, never personal data (names, addresses, e-mail
 * addresses) or secrets. The caller writes the words; these checks refuse what
 * a machine can recognise, an e-mail address, and bound the lengths so that
 * nothing here can make the database refuse the caller's transaction.
 */

export const MAX_INCIDENT_KEY_LENGTH = 200;
/** Slack's header block takes 150 characters; the severity's emoji goes in front. */
export const MAX_TITLE_LENGTH = 140;
export const MAX_TEXT_LENGTH = 2000;

/**
 * An e-mail address: a local part, `@`, and a domain of at least two labels
 * (`ann@example.com`, `a.b+c@mail.example.co.uk`). `@channel` and `user@host`
 * without a dot do not match.
 */
const EMAIL_ADDRESS = /[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)+/u;
const EMAIL_ADDRESSES = new RegExp(EMAIL_ADDRESS.source, 'gu');

/** A programming error in the caller: the alert was not raised. */
export class AlertContentError extends Error {
  override name = 'AlertContentError';
}

export function containsEmailAddress(value: string): boolean {
  return EMAIL_ADDRESS.test(value);
}

/** Defence in depth for what goes out: a row written around raiseAlert (psql) still sends no address. */
export function redactEmailAddresses(value: string): string {
  return value.replace(EMAIL_ADDRESSES, '[e-mail address]');
}

export interface AlertRequest {
  /** What the alert is about: `supplier_failed:<order id>`, `dead_letter:<queue>:<job id>`, … (no spaces, at most 200 characters). */
  incidentKey: string;
  severity: AlertSeverity;
  /** One line, no personal data: `Supplier unreachable for order TT-AB12-CD34`. */
  title: string;
  /** What happened and what to do, no personal data; at most 2,000 characters are kept. */
  text?: string;
  /** The order it is about, if any. */
  orderId?: string | number | null;
}

export interface CheckedAlert {
  incidentKey: string;
  severity: AlertSeverity;
  title: string;
  text: string;
  orderId: string | null;
}

/**
 * Validates and normalises a request, or throws AlertContentError naming the
 * field (never repeating its content, which may be the very data that must
 * not spread). Over-long titles and texts are shortened, not refused.
 */
export function checkAlert(request: AlertRequest): CheckedAlert {
  const incidentKey = typeof request.incidentKey === 'string' ? request.incidentKey.trim() : '';
  if (!incidentKey || incidentKey.length > MAX_INCIDENT_KEY_LENGTH || /[^\x21-\x7e]/.test(incidentKey)) {
    throw new AlertContentError(`an alert's incidentKey must be 1 to ${MAX_INCIDENT_KEY_LENGTH} printable ASCII characters without spaces`);
  }
  if (!(ALERT_SEVERITIES as readonly string[]).includes(request.severity)) {
    throw new AlertContentError(`an alert's severity must be one of ${ALERT_SEVERITIES.join(', ')}`);
  }
  const title = typeof request.title === 'string' ? request.title.replace(/\s+/g, ' ').trim() : '';
  if (!title) throw new AlertContentError('an alert needs a title');
  const text = typeof request.text === 'string' ? request.text.replace(/\r\n?/g, '\n').trim() : '';
  for (const [field, value] of [['incidentKey', incidentKey], ['title', title], ['text', text]] as const) {
    if (containsEmailAddress(value)) {
      throw new AlertContentError(`an alert's ${field} must not contain an e-mail address: alerts carry no personal data (name the order instead)`);
    }
  }
  return {
    incidentKey,
    severity: request.severity,
    title: shorten(title, MAX_TITLE_LENGTH),
    text: shorten(text, MAX_TEXT_LENGTH),
    orderId: orderIdOf(request.orderId),
  };
}

function orderIdOf(value: AlertRequest['orderId']): string | null {
  if (value === undefined || value === null) return null;
  const id = String(value);
  if (!/^[1-9][0-9]{0,17}$/.test(id)) throw new AlertContentError('an alert\'s orderId must be an order\'s id (a positive whole number)');
  return id;
}

/** At most `max` characters (code points, so an emoji is never cut in half), with an ellipsis when cut. */
export function shorten(value: string, max: number): string {
  const characters = [...value];
  return characters.length <= max ? value : `${characters.slice(0, max - 1).join('')}…`;
}
