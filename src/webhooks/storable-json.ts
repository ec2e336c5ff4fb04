/**
 * JSON from outside (a webhook, the gateway's API) made storable in Postgres.
 * `jsonb` and `text` refuse what JavaScript strings and JSON.parse allow: the
 * NUL character (`\u0000`: "unsupported Unicode escape sequence", or invalid
 * byte 0x00 in text) and lone UTF-16 surrogates (`\ud800` alone); jsonb's
 * parser also recurses, so a deeply nested document ends in "stack depth limit
 * exceeded". A statement refused for any of these fails its transaction every
 * time it is retried. So such text is replaced with U+FFFD, the replacement
 * character (visible to a person reading the row, unlike a silent strip), in
 * keys as in values; numbers JSON cannot hold (an exponent beyond a double's
 * range parses as Infinity) become null; and nesting is bounded.
 */

/** Deeper than any event either provider sends (Stripe's are under 10 levels). */
export const MAX_JSON_DEPTH = 64;

export class JsonTooDeepError extends Error {
  constructor() {
    super(`nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/** The text with NUL and lone surrogates replaced by U+FFFD: what Postgres stores. */
export function storableText(text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\uFFFD') : wellFormed;
}

export interface StorableJson {
  value: unknown;
  /** Whether anything was replaced: the value is then no faithful copy of its source. */
  changed: boolean;
}

/** A parsed JSON value made storable (see above); JsonTooDeepError when nested too deeply. */
export function toStorableJson(value: unknown): StorableJson {
  const state = { changed: false };
  const result = clean(value, 0, state);
  return { value: result, changed: state.changed };
}

/** JSON text that jsonb accepts, for a value that may hold anything a JavaScript value can. */
export function storableJsonText(value: unknown): string {
  return JSON.stringify(toStorableJson(value ?? null).value);
}

function clean(value: unknown, depth: number, state: { changed: boolean }): unknown {
  if (typeof value === 'string') {
    const text = storableText(value);
    if (text !== value) state.changed = true;
    return text;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      state.changed = true;
      return null;
    }
    // An integer beyond 2^53 has lost digits in parsing: keep it, but say the copy is not faithful.
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) state.changed = true;
    return value;
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_JSON_DEPTH) throw new JsonTooDeepError();
  if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1, state));
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const name = storableText(key);
    if (name !== key) state.changed = true;
    // defineProperty: a key "__proto__" (JSON.parse makes it an own property) stays a property, not the prototype.
    Object.defineProperty(result, name, { value: clean(item, depth + 1, state), enumerable: true, writable: true, configurable: true });
  }
  return result;
}
