import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Test } from 'tap';
import { hashPassword } from '../../src/auth/password.ts';
import { insertUser } from '../../src/auth/users.repository.ts';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { freshDatabase, testLog, type TestDatabase } from '../helpers/database.ts';

export const PASSWORD = 'correct horse battery';

/** Handlebars escapes = ` ' " & < >: undo that to read a value back out of the HTML. */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot);/gi, (_, code: string) =>
    code === 'amp' ? '&' : code === 'lt' ? '<' : code === 'gt' ? '>' : code === 'quot' ? '"'
      : String.fromCodePoint(code.startsWith('#x') ? parseInt(code.slice(2), 16) : Number(code.slice(1))));
}

export function cookieHeader(response: LightMyRequestResponse, previous = ''): string {
  const jar = new Map(previous.split('; ').filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  for (const c of response.cookies as { name: string; value: string; maxAge?: number }[]) {
    if (c.value === '' || c.maxAge === 0) jar.delete(c.name);
    else jar.set(c.name, encodeURIComponent(c.value));
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

export function formToken(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token in the page');
  return unescapeHtml(match[1]!);
}

export interface Harness extends TestDatabase {
  app: FastifyInstance;
  /** Cookie header of a signed-in session. */
  cookie: string;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  login(name: string, password: string, cookie?: string): Promise<{ response: LightMyRequestResponse; cookie: string }>;
}

/** A fresh database, the app on it, and a user "ann" signed in. */
export async function harness(t: Test, env: Record<string, string> = {}): Promise<Harness> {
  const database = await freshDatabase(t);
  const app = await build(loadConfig({ LOGIN_ATTEMPTS_PER_MINUTE: '1000', ...env }), { pool: database.pool, db: database.db, log: testLog });
  t.teardown(() => app.close());
  await insertUser(database.pool, 'ann', await hashPassword(PASSWORD));

  async function login(name: string, password: string, cookie = '') {
    const page = await app.inject({ url: '/login', headers: { cookie } });
    const withCsrf = cookieHeader(page, cookie);
    const body = new URLSearchParams({ _csrf: formToken(page.body), name, password, next: '/' }).toString();
    const response = await app.inject({
      method: 'POST', url: '/login', payload: body,
      headers: { cookie: withCsrf, 'content-type': 'application/x-www-form-urlencoded' },
    });
    return { response, cookie: cookieHeader(response, withCsrf) };
  }
  const { cookie } = await login('ann', PASSWORD);
  return {
    ...database, app, cookie, login,
    get: (url, headers = {}) => app.inject({ url, headers: { cookie, ...headers } }),
  };
}
