/** What the fuzz saw of one response, whichever way it was sent (inject or a socket). */
export interface Seen {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** The page's own origin in the tests: PUBLIC_URL, and the base a browser resolves a Location against. */
export const APP_ORIGIN = 'http://app.test';

/**
 * What is wrong with a response, as short sentences (none: nothing).
 * `allowedOrigins` are the other sites a redirect may go to (the payment page).
 */
export function problemsWith(method: string, seen: Seen, allowedOrigins: readonly string[]): string[] {
  const problems: string[] = [];
  const { statusCode } = seen;
  if (statusCode >= 500) problems.push(`answered ${statusCode}`);
  else if (statusCode < 200) problems.push(`answered ${statusCode}`);
  if (statusCode >= 400 && method !== 'HEAD' && !sentenceIn(seen)) problems.push(`a ${statusCode} without a sentence saying why: ${JSON.stringify(seen.body.slice(0, 200))}`);
  if (statusCode >= 200 && statusCode < 300 && statusCode !== 204 && method !== 'HEAD' && seen.body.length === 0) problems.push(`an empty ${statusCode}`);
  if (statusCode >= 300 && statusCode < 400 && statusCode !== 304) {
    const location = seen.headers.location;
    if (typeof location !== 'string' || location === '') problems.push(`a ${statusCode} without a Location`);
    else {
      const target = resolveLikeABrowser(location);
      if (target === undefined) problems.push(`a Location a browser cannot follow: ${JSON.stringify(location)}`);
      else if (target.origin !== APP_ORIGIN && !allowedOrigins.includes(target.origin)) {
        problems.push(`a redirect off the site: Location ${JSON.stringify(location)} takes a browser to ${target.href}`);
      }
    }
  }
  return problems;
}

/** The WHATWG URL parser, as a browser applies it to a Location: tabs and newlines are dropped first. */
export function resolveLikeABrowser(location: string): URL | undefined {
  try {
    return new URL(location.replace(/[\t\r\n]/g, ''), `${APP_ORIGIN}/`);
  } catch {
    return undefined;
  }
}

/** A message a person can read: a JSON `message`, the error page's alert, or a page's text, of a few words. */
export function sentenceIn(seen: Seen): string | undefined {
  const type = String(seen.headers['content-type'] ?? '');
  let text: string | undefined;
  if (type.includes('json')) {
    try {
      const message = (JSON.parse(seen.body) as { message?: unknown }).message;
      text = typeof message === 'string' ? message : undefined;
    } catch {
      text = undefined;
    }
  } else if (type.includes('html')) {
    const alert = /<p class="problem" role="alert"[^>]*>([\s\S]*?)<\/p>/.exec(seen.body)?.[1];
    text = alert ?? seen.body.replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ').replace(/<[^>]*>/g, ' ');
  } else {
    text = seen.body;
  }
  if (text === undefined) return undefined;
  const words = text.match(/\p{L}{2,}/gu) ?? [];
  return words.length >= 3 ? text.trim() : undefined;
}
