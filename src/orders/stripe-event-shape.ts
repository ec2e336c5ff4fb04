/**
 * What a gateway event must look like before it is acknowledged: the fields
 * applyStripeEvent reads, with the types it reads them as. The signature says
 * who sent an event, not that it is well-formed; an event the processor would
 * throw on (no `data`, an amount that is not an integer, a paid session
 * without a currency) will never become well-formed however often it is
 * retried, so the webhook route stores it as refused, for a person, and no job
 * ever runs it. Types the processor does not handle need only an id and a
 * type: they are stored and marked ignored, as before.
 */

import { eventIdentity, MAX_EVENT_ID_LENGTH } from '../webhooks/webhook-payload.ts';

type Fields = Record<string, unknown>;
type Check = (object: Fields) => string | null;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isAbsent = (value: unknown) => value === undefined || value === null;

function text(key: string, options: { optional?: boolean } = {}): Check {
  return (o) => (options.optional && isAbsent(o[key])) || (typeof o[key] === 'string' && o[key] !== '') ? null : `${key} is not a non-empty string`;
}
/** The most a payments or orders amount holds (numeric(12, 2)), in minor units: a larger one fails its insert on every retry. */
export const MAX_AMOUNT_MINOR = 999_999_999_999;

function integer(key: string, options: { optional?: boolean } = {}): Check {
  return (o) => (options.optional && isAbsent(o[key]))
    || (Number.isSafeInteger(o[key]) && (o[key] as number) >= 0 && (o[key] as number) <= MAX_AMOUNT_MINOR) ? null : `${key} is not a whole amount`;
}
function currency(key: string): Check {
  return (o) => typeof o[key] === 'string' && /^[A-Za-z]{3}$/.test(o[key]) ? null : `${key} is not a three-letter currency`;
}
function flag(key: string): Check {
  return (o) => typeof o[key] === 'boolean' ? null : `${key} is not a boolean`;
}
/** An expandable reference: an id, an object with an id, or nothing. */
function reference(key: string): Check {
  return (o) => {
    const value = o[key];
    return isAbsent(value) || (typeof value === 'string' && value !== '') || (isObject(value) && typeof value.id === 'string') ? null : `${key} is not an id or an object with one`;
  };
}
/** Our metadata: absent, or an object whose order_id, when there, is a string. */
const metadata: Check = (o) => {
  const value = o.metadata;
  if (isAbsent(value)) return null;
  if (!isObject(value)) return 'metadata is not an object';
  return isAbsent(value.order_id) || typeof value.order_id === 'string' ? null : 'metadata.order_id is not a string';
};
const lastPaymentError: Check = (o) => {
  const value = o.last_payment_error;
  if (isAbsent(value)) return null;
  return isObject(value) && (isAbsent(value.message) || typeof value.message === 'string') ? null : 'last_payment_error is not an error with a message';
};
/** A paid session carries the money: its amount and currency. */
const paidSession: Check = (o) => {
  if (typeof o.payment_status !== 'string') return 'payment_status is not a string';
  if (o.payment_status !== 'paid') return null;
  return integer('amount_total')(o) ?? currency('currency')(o);
};

const session = [text('id'), metadata, text('client_reference_id', { optional: true })];
const intent = [text('id'), metadata];

/** The types applyStripeEvent handles, and what it reads of data.object for each. */
const OBJECT_CHECKS: Readonly<Record<string, readonly Check[]>> = {
  'checkout.session.completed': [...session, reference('payment_intent'), paidSession],
  'checkout.session.async_payment_succeeded': [...session, reference('payment_intent'), paidSession],
  'checkout.session.async_payment_failed': [...session, reference('payment_intent')],
  'checkout.session.expired': session,
  'payment_intent.succeeded': [...intent, integer('amount'), integer('amount_received', { optional: true }), currency('currency')],
  'payment_intent.processing': intent,
  'payment_intent.payment_failed': [...intent, lastPaymentError],
  'charge.refunded': [metadata, reference('payment_intent'), flag('refunded'), integer('amount_refunded')],
  'refund.created': [metadata, reference('payment_intent'), text('status', { optional: true })],
  'refund.updated': [metadata, reference('payment_intent'), text('status', { optional: true })],
};

/** Why applyStripeEvent could not apply this event, in a few words; null when it can. */
export function stripeEventProblem(value: unknown): string | null {
  if (!isObject(value)) return 'the body is not a JSON object';
  if (!eventIdentity(value)) return `the event has no usable id and type (strings of 1 to ${MAX_EVENT_ID_LENGTH} characters)`;
  const checks = OBJECT_CHECKS[value.type as string];
  if (!checks) return null;
  if (!isObject(value.data) || !isObject(value.data.object)) return 'data.object is missing or not an object';
  const object = value.data.object;
  for (const check of checks) {
    const problem = check(object);
    if (problem) return `data.object.${problem}`;
  }
  return null;
}
