import type { ReceivedMessage } from './mail-store.ts';

/** A message as GET /api/messages gives it: everything but the attachments' bytes. */
export function messageJson(message: ReceivedMessage) {
  return {
    id: message.id,
    messageId: message.messageId,
    from: message.from,
    to: message.to,
    subject: message.subject,
    date: message.date.toISOString(),
    receivedAt: message.receivedAt.toISOString(),
    envelope: message.envelope,
    text: message.text,
    html: message.html,
    attachments: message.attachments.map(({ filename, contentType, size, sha256 }) => ({ filename, contentType, size, sha256 })),
  };
}

export function listRow(message: ReceivedMessage) {
  return {
    id: message.id,
    date: formatDate(message.date),
    iso: message.date.toISOString(),
    from: message.from,
    to: message.to.join(', '),
    subject: message.subject || '(no subject)',
    attachmentCount: message.attachments.length,
  };
}

export function messagePage(message: ReceivedMessage) {
  return {
    title: message.subject || '(no subject)',
    ...listRow(message),
    messageId: message.messageId,
    headers: message.headers,
    text: message.text,
    // Shown in <iframe sandbox srcdoc="{{html}}">: the template escapes it as an
    // attribute value, the browser decodes it back into a document with no
    // scripts, no forms and an origin of its own.
    html: message.html,
    attachments: message.attachments.map((attachment, index) => ({
      href: `/messages/${encodeURIComponent(message.id)}/attachments/${index}`,
      filename: attachment.filename,
      contentType: attachment.contentType,
      size: formatBytes(attachment.size),
      sha256: attachment.sha256,
    })),
  };
}

function formatDate(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
