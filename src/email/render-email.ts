import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';

export const EMAIL_TEMPLATES_DIR = path.resolve(import.meta.dirname, '../../templates/email');

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

type Template = Handlebars.TemplateDelegate;

interface CompiledEmail {
  subject: Template;
  text: Template;
  html: Template;
}

/**
 * One Handlebars of our own: `strict` makes a missing field an error instead
 * of a blank in a customer's mail, and `url` refuses anything but http(s)
 * links, so a `javascript:` value cannot become a link.
 */
const handlebars = Handlebars.create();
handlebars.registerHelper('url', (value: unknown) => {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) throw new Error(`not an http(s) URL: ${String(value)}`);
  return value;
});

const compiled = new Map<string, Promise<CompiledEmail>>();
let layout: Promise<void> | undefined;

/**
 * Renders templates/email/<name>.subject.hbs, .text.hbs and .html.hbs. The
 * HTML is escaped; the subject and the text are plain text (no escaping: an
 * `&` in a name stays an `&`). Each template is read and compiled once.
 */
export async function renderEmail(templateName: string, data: Record<string, unknown>): Promise<RenderedEmail> {
  const email = await compile(templateName);
  return {
    // A header is one line: a newline in the data must not start another header.
    subject: email.subject(data).replace(/\s+/g, ' ').trim(),
    text: email.text(data),
    html: email.html(data),
  };
}

function compile(name: string): Promise<CompiledEmail> {
  // Names come from our code, but a name is also a path: keep it to one plain file name.
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(name)) return Promise.reject(new Error(`not an e-mail template name: "${name}"`));
  let email = compiled.get(name);
  if (!email) {
    email = loadTemplates(name);
    compiled.set(name, email);
    // A failed load (a typo in the name) is not cached: the next call reads again.
    email.catch(() => compiled.delete(name));
  }
  return email;
}

async function loadTemplates(name: string): Promise<CompiledEmail> {
  layout ??= readTemplate('_layout.html').then((source) => handlebars.registerPartial('layout', source));
  await layout;
  const [subject, text, html] = await Promise.all(['subject', 'text', 'html'].map((part) => readTemplate(`${name}.${part}`)));
  return {
    subject: handlebars.compile(subject, { strict: true, noEscape: true }),
    text: handlebars.compile(text, { strict: true, noEscape: true }),
    html: handlebars.compile(html, { strict: true }),
  };
}

function readTemplate(file: string): Promise<string> {
  return readFile(path.join(EMAIL_TEMPLATES_DIR, `${file}.hbs`), 'utf8');
}
