import type { FormObject } from './form-decoder.ts';
import { optionalInteger, optionalObject, optionalString, rejectUnknown } from './params.ts';
import { parameterInvalid, resourceMissing } from './stripe-error.ts';
import type { StripeList } from './stripe-objects.ts';

/** The parameters every list endpoint takes, besides its own filters. */
export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created', 'expand'];

/**
 * A page of a Stripe list: newest first, `limit` 1–100 (default 10), cursors
 * `starting_after` / `ending_before` (an object id), `created` as a number or
 * `{ gt, gte, lt, lte }`. stripe-node's auto-pagination walks it unchanged.
 */
export function listPage<T extends { id: string; created: number }>(
  objects: Iterable<T>, params: FormObject, url: string, objectName: string, keep: (object: T) => boolean = () => true,
): StripeList<T> {
  const inRange = createdFilter(params);
  const newestFirst = [...objects].reverse().filter((object) => inRange(object.created) && keep(object));
  return page(newestFirst, params, url, objectName);
}

/** A page of objects already in list order (a session's line items keep the order they were given in). */
export function page<T extends { id: string }>(objects: T[], params: FormObject, url: string, objectName: string): StripeList<T> {
  const limit = optionalInteger(params, 'limit', '', 1) ?? 10;
  if (limit > 100) throw parameterInvalid('limit', 'This value must be less than or equal to 100.', 'parameter_invalid_integer');
  const startingAfter = optionalString(params, 'starting_after');
  const endingBefore = optionalString(params, 'ending_before');
  if (endingBefore !== null) {
    const end = cursor(objects, endingBefore, objectName, 'ending_before');
    const start = Math.max(0, end - limit);
    return { object: 'list', data: objects.slice(start, end), has_more: start > 0, url };
  }
  const start = startingAfter === null ? 0 : cursor(objects, startingAfter, objectName, 'starting_after') + 1;
  return { object: 'list', data: objects.slice(start, start + limit), has_more: start + limit < objects.length, url };
}

function cursor(objects: Array<{ id: string }>, id: string, objectName: string, param: string): number {
  const index = objects.findIndex((object) => object.id === id);
  if (index === -1) throw resourceMissing(objectName, id, param);
  return index;
}

function createdFilter(params: FormObject): (created: number) => boolean {
  if (typeof params.created === 'string') {
    const exactly = optionalInteger(params, 'created');
    return (created) => exactly === null || created === exactly;
  }
  const range = optionalObject(params, 'created');
  if (!range) return () => true;
  rejectUnknown(range, ['gt', 'gte', 'lt', 'lte'], 'created');
  const gt = optionalInteger(range, 'gt', 'created');
  const gte = optionalInteger(range, 'gte', 'created');
  const lt = optionalInteger(range, 'lt', 'created');
  const lte = optionalInteger(range, 'lte', 'created');
  return (created) => (gt === null || created > gt) && (gte === null || created >= gte) && (lt === null || created < lt) && (lte === null || created <= lte);
}
