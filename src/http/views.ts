import path from 'node:path';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import type { FastifyInstance } from 'fastify';
import Handlebars from 'handlebars';

const projectRoot = path.resolve(import.meta.dirname, '../..');
export const TEMPLATES_DIR = path.join(projectRoot, 'templates');
const PUBLIC_DIR = path.join(projectRoot, 'public');

const partials = ['filters', 'pager', 'bar-chart', 'nav', 'totals'];

/**
 * Handlebars with one layout and a few partials. Every template prints with
 * {{ }} (HTML-escaped); the only {{{ }}} is the layout's body, which is
 * another template's escaped output. Templates are compiled once (production
 * mode): a page render is then a function call.
 */
export async function installViews(app: FastifyInstance): Promise<void> {
  const handlebars = Handlebars.create();
  handlebars.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  await app.register(view, {
    engine: { handlebars },
    root: TEMPLATES_DIR,
    layout: 'layouts/main.hbs',
    viewExt: 'hbs',
    production: true,
    options: { partials: Object.fromEntries(partials.map((name) => [name, `partials/${name}.hbs`])) },
  });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/static/', maxAge: '1h', index: false });
}
