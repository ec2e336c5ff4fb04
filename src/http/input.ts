import type { FastifyInstance, FastifyRequest } from 'fastify';
import { addDays, daysInRange, parseIsoDate } from '../stats/days.ts';
import { HttpError } from './http-error.ts';

/**
 * Every value a request carries in its query string, path or form, read in
 * one place. Two layers:
 *
 * - installInputGuard: a hook on every route of the app (like sign-in, on
 *   by default, so a new route cannot forget it). Before any handler runs it
 *   refuses, with a 400 sentence naming the parameter, what no value here
 *   may be: given twice (Fastify makes that an array), not text (a JSON body's
 *   object), longer than MAX_VALUE_LENGTH, or holding a control character
 *   (NUL, tab, CR, LF, DEL, C1) or half a surrogate pair. Postgres refuses a
 *   NUL in text (SQLSTATE 22021), browsers drop tabs and newlines from
 *   addresses, and nothing in this app's forms is multi-line.
 * - The readers and value parsers below, which each route uses for its own
 *   parameters: unknown names, dates in the calendar range, whole numbers and
 *   ids within their bounds, choices from a list. Each throws a 400 whose
 *   sentence says what was wrong and what is accepted.
 */

/** The first and last day any date in a request may name: wide enough for any real sale, narrow enough for every date function. */
export const FIRST_DAY = '2000-01-01';
export const LAST_DAY = '2999-12-31';
/** The longest value of any parameter or form field (the longest real one is a sign-in's `next`, an address of this site). */
export const MAX_VALUE_LENGTH = 2000;
/** More parameters than any page has, by far. */
export const MAX_PARAMETERS = 50;
/** The checkout form has a quantity per listed product (at most 50) and a dozen fields. */
export const MAX_FORM_FIELDS = 300;
/** The largest Postgres bigint: ids beyond it cannot exist. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** What a value is called in a sentence. */
export type Where = 'parameter' | 'field' | 'path segment';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Form fields the route checks itself, with the same problemWith, so it
     * can show the sentence in its own form (the checkout keeps what was typed).
     */
    formFieldsCheckedByRoute?: readonly string[];
  }
}

export function bad(message: string, code = 'bad_request'): HttpError {
  return new HttpError(400, code, message);
}

// Cc: C0 controls (NUL, tab, CR, LF…), DEL and C1; Cs: half of a surrogate pair, which no encoder can write.
const UNREADABLE = /[\p{Cc}\p{Cs}]/u;

/** A value as a sentence may quote it: control characters as U+XXXX, at most 40 characters. */
export function shown(text: string): string {
  const cut = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return cut.replace(/[\p{Cc}\p{Cs}]/gu, (c) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** Why a raw value (a string, an array when repeated, anything from a JSON body) cannot be read, or undefined. */
export function problemWith(where: Where, name: string, value: unknown, max = MAX_VALUE_LENGTH): string | undefined {
  const what = `The ${where} "${shown(name)}"`;
  if (Array.isArray(value)) return `${what} is given more than once.`;
  if (typeof value !== 'string') return `${what} must be text.`;
  if (value.length > max) return `${what} is longer than ${max} characters.`;
  const unreadable = UNREADABLE.exec(value)?.[0];
  if (unreadable !== undefined) {
    const code = `U+${unreadable.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    return `${what} contains a control character (${code}), which it may not: remove it and try again.`;
  }
  return undefined;
}

function refuseUnreadable(where: Where, values: Record<string, unknown>, limit: number, skip: readonly string[] = []): void {
  const names = Object.keys(values);
  if (names.length > limit) throw bad(`A request may carry at most ${limit} ${where}s; this one has ${names.length}.`);
  for (const name of names) {
    const nameProblem = problemWith(where, name, name, 100);
    if (nameProblem) throw bad(nameProblem.replace(`The ${where} "`, `The name of the ${where} "`));
    if (skip.includes(name)) continue;
    const problem = problemWith(where, name, values[name]);
    if (problem) throw bad(problem);
  }
}

/**
 * The guard on every route: query string and path always, the body when it
 * is a parsed form or JSON object (the webhooks read raw bytes, which their
 * own checks verify).
 */
export function installInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (request: FastifyRequest) => {
    refuseUnreadable('parameter', (request.query ?? {}) as Record<string, unknown>, MAX_PARAMETERS);
    refuseUnreadable('path segment', (request.params ?? {}) as Record<string, unknown>, MAX_PARAMETERS);
    const body = request.body;
    if (body !== null && typeof body === 'object' && !Buffer.isBuffer(body)) {
      refuseUnreadable('field', body as Record<string, unknown>, MAX_FORM_FIELDS, request.routeOptions.config?.formFieldsCheckedByRoute);
    }
  });
}

/** Reads a value by name: trimmed, and undefined when absent or blank. */
export type Reader = (name: string) => string | undefined;

/**
 * The query string of a page that takes `known` parameters. Signed-in pages
 * refuse any other name (a typo should not silently show something else);
 * public pages ignore them (links from mails and ads carry tracking tags).
 */
export function readQuery(raw: unknown, known: readonly string[], { unknown = 'refuse', page = '' }: { unknown?: 'refuse' | 'ignore'; page?: string } = {}): Reader {
  return reader('parameter', raw, known, unknown, page);
}

/** A form's fields: the ones named in `known`; others (the CSRF token, buttons) are not read. */
export function readForm(raw: unknown, known: readonly string[]): Reader {
  return reader('field', raw, known, 'ignore', '');
}

function reader(where: Where, raw: unknown, known: readonly string[], unknown: 'refuse' | 'ignore', page: string): Reader {
  const values = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  for (const name of Object.keys(values)) {
    if (known.includes(name)) {
      const problem = problemWith(where, name, values[name]);
      if (problem) throw bad(problem);
    } else if (unknown === 'refuse') {
      throw bad(`There is no ${where} "${shown(name)}"${page}${known.length ? `; use ${list(known)}` : ''}.`);
    }
  }
  return (name) => {
    const value = values[name];
    const text = typeof value === 'string' ? value.trim() : undefined;
    return text === '' ? undefined : text;
  };
}

export function list(words: readonly string[]): string {
  return words.length === 1 ? words[0]! : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

/** A day written YYYY-MM-DD, from FIRST_DAY to LAST_DAY. */
export function isoDay(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const day = parseIsoDate(text);
  if (!day) throw bad(`"${name}" must be a date written YYYY-MM-DD, such as 2026-03-10, not "${shown(text)}".`);
  if (day < FIRST_DAY || day > LAST_DAY) throw bad(`"${name}" must be a date from ${FIRST_DAY} to ${LAST_DAY}, not ${day}.`);
  return day;
}

export interface RangeRules {
  /** Days a range covers when only one end is given. */
  span: number;
  /** The most days a range may cover. */
  maxDays: number;
  /** Without either end: the range ends here (undefined: no range at all). */
  today?: string;
  /** How the limit reads in the sentence: "a page covers", "the pivot view shows". */
  covers: string;
}

/**
 * The range of `from` and `to` (inclusive). One end given: `span` days from
 * or up to it, cut at the calendar's ends; neither: `span` days up to
 * `today`, or none. Refused: an end outside the calendar, from after to, more
 * than `maxDays` days.
 */
export function dayRange(fromText: string | undefined, toText: string | undefined, rules: RangeRules): { from: string; to: string } | undefined {
  const givenFrom = isoDay('from', fromText);
  const givenTo = isoDay('to', toText);
  if (givenFrom === undefined && givenTo === undefined && rules.today === undefined) return undefined;
  const to = givenTo ?? (givenFrom !== undefined ? min(addDays(givenFrom, rules.span - 1), LAST_DAY) : rules.today!);
  const from = givenFrom ?? max(addDays(to, -(rules.span - 1)), FIRST_DAY);
  if (from > to) throw bad(`The range starts (${from}) after it ends (${to}): "from" must be on or before "to".`);
  const days = daysInRange(from, to);
  if (days > rules.maxDays) throw bad(`The range ${from} to ${to} covers ${days} days; ${rules.covers} at most ${rules.maxDays}.`);
  return { from, to };
}

// Both are within FIRST_DAY..LAST_DAY (or one day past, still four-digit years): string order is day order.
const min = (a: string, b: string) => (a < b ? a : b);
const max = (a: string, b: string) => (a > b ? a : b);

/** A whole number from min to max (both far inside 2^31), or the fallback when absent. */
export function wholeNumber(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw bad(`${name} must be a whole number from ${min} to ${max}, not "${shown(text)}".`);
  }
  return Number(text);
}

/** A row id: digits naming a positive bigint (leading zeros dropped), else the sentence. */
export function rowId(text: string, sentence: (shownText: string) => string): string {
  const digits = /^\d{1,25}$/.test(text) ? text.replace(/^0+(?=\d)/, '') : '';
  if (digits.length === 0 || digits.length > 19 || BigInt(digits) === 0n || BigInt(digits) > MAX_BIGINT) throw bad(sentence(shown(text)));
  return digits;
}

/** One of the allowed words, or undefined when absent. */
export function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw bad(`${name} must be one of ${list(allowed)}, not "${shown(text)}".`);
  }
  return text as T;
}
