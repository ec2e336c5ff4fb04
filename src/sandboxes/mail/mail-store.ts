import { createHash } from 'node:crypto';
import type { AddressObject, ParsedMail } from 'mailparser';

export interface ReceivedAttachment {
  filename: string;
  contentType: string;
  size: number;
  /** Hex SHA-256 of the decoded bytes: tests compare it with what they attached. */
  sha256: string;
  content: Buffer;
}

export interface ReceivedMessage {
  /** The sandbox's own id ("1", "2", …), never reused, not even after a clear. */
  id: string;
  /** The Message-ID header, with its angle brackets, or null when the message had none. */
  messageId: string | null;
  from: string;
  to: string[];
  subject: string;
  /** The Date header, or the time of receipt when the message had none. */
  date: Date;
  receivedAt: Date;
  envelope: { mailFrom: string | null; rcptTo: string[] };
  headers: { key: string; value: string }[];
  text: string | null;
  html: string | null;
  attachments: ReceivedAttachment[];
  /** The raw message size: what the store's byte budget counts. */
  size: number;
}

export interface MailStore {
  add(parsed: ParsedMail, envelope: ReceivedMessage['envelope'], rawSize: number): ReceivedMessage;
  /** Newest first. */
  list(): ReceivedMessage[];
  get(id: string): ReceivedMessage | undefined;
  clear(): void;
}

export interface MailStoreLimits {
  maxMessages: number;
  maxBytes: number;
}

const defaultLimits: MailStoreLimits = { maxMessages: 500, maxBytes: 200 * 1024 * 1024 };

/**
 * Received messages in memory, bounded by count and by raw size: the oldest
 * go first, so a sandbox left running under a load test cannot eat the machine.
 */
export function createMailStore(limits: MailStoreLimits = defaultLimits): MailStore {
  // Oldest first: trimming shifts from the front.
  const messages: ReceivedMessage[] = [];
  let bytes = 0;
  let lastId = 0;

  return {
    add(parsed, envelope, rawSize) {
      const receivedAt = new Date();
      const message: ReceivedMessage = {
        id: String(++lastId),
        messageId: parsed.messageId ?? null,
        from: parsed.from ? displayAddresses(parsed.from) : (envelope.mailFrom ?? ''),
        to: addresses(parsed.to, envelope.rcptTo),
        subject: parsed.subject ?? '',
        date: parsed.date ?? receivedAt,
        receivedAt,
        envelope,
        headers: parsed.headerLines.map(({ key, line }) => ({ key, value: headerValue(line) })),
        text: parsed.text ?? null,
        html: typeof parsed.html === 'string' ? parsed.html : null,
        attachments: parsed.attachments.map((attachment, index) => ({
          filename: attachment.filename ?? `attachment-${index + 1}`,
          contentType: attachment.contentType,
          size: attachment.content.length,
          sha256: createHash('sha256').update(attachment.content).digest('hex'),
          content: attachment.content,
        })),
        size: rawSize,
      };
      messages.push(message);
      bytes += rawSize;
      while (messages.length > limits.maxMessages || (bytes > limits.maxBytes && messages.length > 1)) {
        bytes -= messages.shift()?.size ?? 0;
      }
      return message;
    },
    list: () => messages.toReversed(),
    get: (id) => messages.find((message) => message.id === id),
    clear() {
      messages.length = 0;
      bytes = 0;
    },
  };
}

/** The To header's addresses; the envelope's recipients when there is no To (Bcc only). */
function addresses(header: AddressObject | AddressObject[] | undefined, fallback: string[]): string[] {
  if (!header) return fallback;
  const found: string[] = [];
  const visit = (value: { address?: string; group?: { address?: string }[] }) => {
    if (value.address) found.push(value.address);
    for (const member of value.group ?? []) visit(member);
  };
  for (const object of [header].flat()) object.value.forEach(visit);
  return found;
}

/** `Shop <shop@example.com>`: as a person reads it (mailparser's text form quotes every name). */
function displayAddresses(header: AddressObject): string {
  return header.value.map((value) => (value.name && value.address ? `${value.name} <${value.address}>` : (value.address ?? value.name))).join(', ');
}

/** `Subject: a\r\n b` → `a b` (unfolded, name removed). */
function headerValue(line: string): string {
  const colon = line.indexOf(':');
  return line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}
