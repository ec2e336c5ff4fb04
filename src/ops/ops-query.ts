import { bad, dayRange, oneOf, readForm, readQuery, rowId, shown, wholeNumber } from '../http/input.ts';
import { FULFILMENT_STATES, PAYMENT_STATES, type FulfilmentState, type PaymentState } from '../orders/order-states.ts';
import { MAX_RANGE_DAYS, MAX_SEARCH_LENGTH } from '../stats/stats-query.ts';

export { bad };

export const DEFAULT_PER_PAGE = 50;
export const MAX_PER_PAGE = 200;

/** A validated request for the orders list. Every field has been checked; the repository trusts it. */
export interface OrderListQuery {
  payment: PaymentState | undefined;
  fulfilment: FulfilmentState | undefined;
  /** true: only orders that need review; false: only those that do not. */
  review: boolean | undefined;
  /** Creation days in the business time zone, inclusive; both or neither. */
  from: string | undefined;
  to: string | undefined;
  q: string | undefined;
  perPage: number;
  /** Keyset cursors: orders older than `before`, or newer than `after` (at most one). */
  before: string | undefined;
  after: string | undefined;
}

const listParameters = ['payment', 'fulfilment', 'review', 'from', 'to', 'q', 'per_page', 'before', 'after'];

/**
 * Reads the query string of /ops/orders in the stats pages' manner: anything
 * wrong is a 400 with a sentence naming the parameter. One date given: the
 * other end makes the longest range allowed (366 days), as the form then shows.
 */
export function parseOrderListQuery(raw: unknown): OrderListQuery {
  const value = readQuery(raw, listParameters);
  const payment = oneOf('payment', value('payment'), PAYMENT_STATES);
  const fulfilment = oneOf('fulfilment', value('fulfilment'), FULFILMENT_STATES);
  const reviewText = oneOf('review', value('review'), ['yes', 'no'] as const);

  const range = dayRange(value('from'), value('to'), { span: MAX_RANGE_DAYS, maxDays: MAX_RANGE_DAYS, covers: 'the list covers' });

  const q = value('q');
  if (q !== undefined && q.length > MAX_SEARCH_LENGTH) throw bad(`The search text is longer than ${MAX_SEARCH_LENGTH} characters.`);
  const before = cursor('before', value('before'));
  const after = cursor('after', value('after'));
  if (before !== undefined && after !== undefined) throw bad('Give "before" or "after", not both: they are the links to the next and the previous page.');

  return {
    payment, fulfilment, review: reviewText === undefined ? undefined : reviewText === 'yes',
    from: range?.from, to: range?.to, q, before, after,
    perPage: wholeNumber('per_page', value('per_page'), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
  };
}

/** A link to the list with the current filters, some changed; the cursors are dropped unless given. */
export function orderListLink(query: OrderListQuery, changes: Partial<OrderListQuery> = {}): string {
  const q = { ...query, before: undefined, after: undefined, ...changes };
  const params = new URLSearchParams();
  if (q.payment) params.set('payment', q.payment);
  if (q.fulfilment) params.set('fulfilment', q.fulfilment);
  if (q.review !== undefined) params.set('review', q.review ? 'yes' : 'no');
  if (q.from) params.set('from', q.from);
  if (q.to) params.set('to', q.to);
  if (q.q) params.set('q', q.q);
  if (q.perPage !== DEFAULT_PER_PAGE) params.set('per_page', String(q.perPage));
  if (q.before) params.set('before', q.before);
  if (q.after) params.set('after', q.after);
  const text = params.toString();
  return text ? `/ops/orders?${text}` : '/ops/orders';
}

export const ORDER_NUMBER = /^TT-[0-9A-Z]{4}-[0-9A-Z]{4}$/;

/** An order by id (digits) or by its number (TT-XXXX-XXXX, any case). */
export function parseOrderRef(raw: string): { orderId: string } | { number: string } {
  const text = raw.trim();
  const sentence = (shownText: string) => `"${shownText}" is neither an order id (digits) nor an order number such as TT-AB12-CD34.`;
  if (/^\d+$/.test(text)) return { orderId: rowId(text, sentence) };
  if (ORDER_NUMBER.test(text.toUpperCase())) return { number: text.toUpperCase() };
  throw bad(sentence(shown(raw)));
}

/** The flash messages a redirect after an action may ask for: fixed sentences, never text from the URL. */
export const FLASHES = {
  retry: 'The job was sent again: its new attempt shows below as soon as a worker takes it.',
  'retry-already': 'That job had been retried already: nothing was sent again.',
  'retry-gone': 'Nothing to retry: that job was retried already, or it is no longer kept.',
  cancel: 'The order is cancelled: the timeline shows what changed, a refund included if it was paid.',
  'cancel-already': 'The order had been cancelled already: nothing changed.',
  resubmit: 'The order is on its way to the supplier again: the submit job shows below.',
  'resubmit-already': 'The order is already on its way to the supplier, or with it: nothing more was sent.',
  refund: 'Refund requested: the refund job gives the money back and issues the credit note.',
  'refund-already': 'A refund had been requested already: nothing more was sent.',
} as const;
export type Flash = keyof typeof FLASHES;

/** The order and dead-letter pages take only `done` (the flash after an action), and the latter a queue. */
export function parseFlashQuery(raw: unknown, extra: readonly string[] = []): { done: Flash | undefined; value: (key: string) => string | undefined } {
  const value = readQuery(raw, ['done', ...extra], { page: ' on this page' });
  return { done: oneOf('done', value('done'), Object.keys(FLASHES) as Flash[]), value };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The Retry form: which job, on which queue. */
export function parseRetryForm(body: unknown, isKnownQueue: (queue: string) => boolean): { queue: string; jobId: string } {
  const value = readForm(body, ['queue', 'job']);
  const queue = value('queue') ?? '';
  const jobId = (value('job') ?? '').toLowerCase();
  if (!isKnownQueue(queue)) throw bad(`"${shown(queue)}" is not one of the application's queues.`);
  if (!UUID.test(jobId)) throw bad(`"${shown(jobId)}" is not a job id: job ids are UUIDs.`);
  return { queue, jobId };
}

function cursor(name: string, text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return rowId(text, (shownText) => `"${name}" must be an order id (digits), not "${shownText}".`);
}

/** An invoice id from the path. */
export function parseInvoiceId(raw: string): string {
  return rowId(raw, (shownText) => `"${shownText}" is not an invoice id: ids are whole numbers from 1.`);
}
