import type { GatewayStore } from './gateway-store.ts';
import { parameterInvalid } from './stripe-error.ts';
import type { StripeList } from './stripe-objects.ts';

type Json = Record<string, unknown>;

/**
 * Stripe's `expand[]`: an id at the given path is replaced by its object
 * (`payment_intent`, `payment_intent.latest_charge`; `data.payment_intent` on
 * a list). A Checkout Session's `line_items` appear only when expanded. The
 * stored objects are never touched: expansion works on a copy.
 */
export function expandObject(store: GatewayStore, object: object, paths: readonly string[]): Json {
  const copy = structuredClone(object) as Json;
  for (const path of paths) expandPath(store, copy, path.split('.'), path);
  return copy;
}

export function expandList<T extends object>(store: GatewayStore, list: StripeList<T>, paths: readonly string[]): Json {
  for (const path of paths) {
    if (!path.startsWith('data.')) throw cannotExpand(path);
  }
  const itemPaths = paths.map((path) => path.slice('data.'.length));
  return { ...list, data: list.data.map((item) => expandObject(store, item, itemPaths)) };
}

/**
 * For endpoints that change something: a path that cannot be expanded is
 * refused before the change, as Stripe validates every parameter first.
 */
export function checkExpandable(paths: readonly string[], roots: readonly string[]): readonly string[] {
  for (const path of paths) {
    if (!roots.includes(path.split('.')[0] ?? '')) throw cannotExpand(path);
  }
  return paths;
}

function expandPath(store: GatewayStore, value: Json, segments: string[], fullPath: string): void {
  if (segments.length > 4) throw parameterInvalid('expand', `You cannot expand more than 4 levels of a property (${fullPath}).`);
  const [head, ...rest] = segments as [string, ...string[]];
  if (value.object === 'checkout.session' && head === 'line_items' && rest.length === 0) {
    const items = store.lineItems.get(value.id as string) ?? [];
    value.line_items = { object: 'list', data: structuredClone(items), has_more: false, url: `/v1/checkout/sessions/${value.id as string}/line_items` };
    return;
  }
  if (!Object.hasOwn(value, head)) throw cannotExpand(fullPath);
  let target = value[head];
  if (typeof target === 'string') {
    const resolved = resolve(store, target);
    if (!resolved) throw cannotExpand(fullPath);
    target = structuredClone(resolved);
    value[head] = target;
  }
  if (rest.length === 0 || target === null) return;
  if (typeof target !== 'object') throw cannotExpand(fullPath);
  expandPath(store, target as Json, rest, fullPath);
}

function resolve(store: GatewayStore, id: string): object | undefined {
  if (id.startsWith('cs_')) return store.sessions.get(id);
  if (id.startsWith('pi_')) return store.paymentIntents.get(id);
  if (id.startsWith('ch_')) return store.charges.get(id);
  if (id.startsWith('re_')) return store.refunds.get(id);
  return undefined;
}

function cannotExpand(path: string) {
  return parameterInvalid('expand', `This property cannot be expanded (${path}).`);
}
