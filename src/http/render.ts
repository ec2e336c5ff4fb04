import type { FastifyReply, FastifyRequest } from 'fastify';
import { dimensions } from '../stats/dimensions.ts';

/** What every page's layout needs: who is signed in, the logout form's CSRF token, the navigation. */
export async function renderPage(request: FastifyRequest, reply: FastifyReply, template: string, model: { title: string; [key: string]: unknown }): Promise<FastifyReply> {
  const html = await reply.viewAsync(template, {
    ...model,
    user: request.user,
    // Forms on every page (logout, login) carry a token tied to the signed CSRF cookie.
    csrfToken: reply.generateCsrf(),
    nav: [{ href: '/', label: 'Overview' }, ...dimensions.map((d) => ({ href: `/stats/${d.slug}`, label: d.title })), { href: '/ops/orders', label: 'Operations' }]
      .map((item) => ({ ...item, current: request.url === item.href || request.url.startsWith(`${item.href}?`) || (item.href !== '/' && request.url.startsWith(`${item.href}/`)) })),
  });
  return reply.type('text/html; charset=utf-8').send(html);
}
