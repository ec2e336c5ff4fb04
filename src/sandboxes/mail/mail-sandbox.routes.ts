import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxFaults } from './mail-smtp.ts';
import type { MailStore, ReceivedAttachment } from './mail-store.ts';
import { listRow, messageJson, messagePage } from './mail-views.ts';

/**
 * Pages: the whole page is our escaped output; the only foreign markup is a
 * message's HTML part inside a sandboxed srcdoc iframe, which inherits this
 * policy too (no scripts, no remote images that would phone home).
 */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;

interface MessageParams {
  id: string;
}
interface AttachmentParams extends MessageParams {
  n: string;
}

/** The mailbox: HTML pages for people, JSON for tests, and the fault switch. */
export const mailSandboxRoutes: FastifyPluginAsync<{ store: MailStore; faults: SandboxFaults }> = async (app, { store, faults }) => {
  async function page(reply: FastifyReply, template: string, model: object): Promise<FastifyReply> {
    const html = await reply.viewAsync(template, model);
    return reply.type('text/html; charset=utf-8').header('content-security-policy', PAGE_POLICY).header('cache-control', 'no-store').send(html);
  }

  app.get('/', async (_request, reply) => {
    const messages = store.list();
    return page(reply, 'messages', { title: 'Mailbox', count: messages.length, messages: messages.map(listRow) });
  });

  app.get<{ Params: MessageParams }>('/messages/:id', async (request, reply) => {
    const message = store.get(request.params.id);
    if (!message) return reply.code(404).type('text/plain; charset=utf-8').send(`There is no message ${request.params.id} (it may have been deleted).\n`);
    return page(reply, 'message', messagePage(message));
  });

  app.get<{ Params: AttachmentParams }>('/messages/:id/attachments/:n', download);
  app.get<{ Params: AttachmentParams }>('/api/messages/:id/attachments/:n', download);

  app.get('/api/messages', async () => store.list().map(messageJson));

  app.get<{ Params: MessageParams }>('/api/messages/:id', async (request, reply) => {
    const message = store.get(request.params.id);
    if (!message) return reply.code(404).send({ message: `There is no message ${request.params.id}.` });
    return messageJson(message);
  });

  app.delete('/api/messages', async (_request, reply) => {
    store.clear();
    return reply.code(204).send();
  });

  app.get('/_sandbox/faults', async () => ({ ...faults }));

  app.post<{ Body: { rejectNext: number } }>('/_sandbox/faults', {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['rejectNext'],
        properties: { rejectNext: { type: 'integer', minimum: 0, maximum: 10_000 } },
      },
    },
  }, async (request) => {
    faults.rejectNext = request.body.rejectNext;
    return { ...faults };
  });

  async function download(request: FastifyRequest<{ Params: AttachmentParams }>, reply: FastifyReply): Promise<FastifyReply> {
    const message = store.get(request.params.id);
    const attachment = /^\d+$/.test(request.params.n) ? message?.attachments[Number(request.params.n)] : undefined;
    if (!attachment) return reply.code(404).send({ message: `There is no attachment ${request.params.n} of message ${request.params.id}.` });
    return reply
      .type(CONTENT_TYPE.test(attachment.contentType) ? attachment.contentType : 'application/octet-stream')
      .header('content-disposition', contentDisposition(attachment))
      // An attached HTML file must not run as this origin's page, whatever a browser guesses.
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', 'sandbox')
      .header('cache-control', 'no-store')
      .send(attachment.content);
  }
};

/** `attachment; filename="ascii"; filename*=UTF-8''utf-8` (RFC 6266): every browser gets a safe name. */
function contentDisposition(attachment: ReceivedAttachment): string {
  const ascii = attachment.filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(attachment.filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
