import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { SUBSCRIBED_EVENT_TYPES } from '../../../src/orders/stripe-events.ts';
import { SUPPLIER_ORDER_STATUSES } from '../../../src/supplier/supplier-api.types.ts';
import type { SignatureChoice } from './requests.ts';
import { dateText, hostileText, numberText } from './values.ts';

/** Something in a JSON field: usually the right kind, sometimes any JSON at all. */
const anyJson = fc.jsonValue({ maxDepth: 2 });
const orLoose = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ arbitrary, weight: 15 }, { arbitrary: anyJson, weight: 1 });
const text = fc.oneof({ arbitrary: fc.string({ maxLength: 12 }), weight: 3 }, { arbitrary: hostileText, weight: 1 });

/** Gateway events: the shape Stripe sends, with every part of it optional, mistyped or hostile now and then. */
export function stripeEventBody(orderIds: string[]): fc.Arbitrary<string | Buffer> {
  const orderId = fc.oneof(orderIds.length ? fc.constantFrom(...orderIds) : fc.constant('1'), numberText);
  const object = fc.record({
    id: orLoose(fc.oneof(fc.string({ maxLength: 10 }).map((s) => `cs_${s}`), text)),
    object: fc.constantFrom('checkout.session', 'payment_intent', 'charge', 'refund'),
    metadata: orLoose(fc.record({ order_id: orLoose(orderId) }, { requiredKeys: [] })),
    client_reference_id: orLoose(orderId),
    payment_status: orLoose(fc.constantFrom('paid', 'unpaid', 'no_payment_required')),
    payment_intent: orLoose(fc.oneof(text, fc.record({ id: text }))),
    amount_total: orLoose(fc.oneof(fc.integer(), fc.double())),
    amount: orLoose(fc.integer()),
    amount_received: orLoose(fc.integer()),
    amount_refunded: orLoose(fc.integer()),
    currency: orLoose(fc.constantFrom('eur', 'usd', 'EUR', '')),
    refunded: orLoose(fc.boolean()),
    status: orLoose(fc.constantFrom('succeeded', 'pending', 'failed')),
    last_payment_error: orLoose(fc.record({ message: text }, { requiredKeys: [] })),
  }, { requiredKeys: [] });
  const event = fc.record({
    id: orLoose(fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 16 }).map((s) => `evt_${s}`), weight: 4 }, { arbitrary: text, weight: 1 })),
    object: fc.constant('event'),
    type: orLoose(fc.oneof({ arbitrary: fc.constantFrom(...SUBSCRIBED_EVENT_TYPES, 'payment_intent.succeeded'), weight: 4 }, { arbitrary: text, weight: 1 })),
    created: orLoose(fc.integer()),
    data: orLoose(fc.record({ object: orLoose(object) }, { requiredKeys: [] })),
  }, { requiredKeys: ['id', 'type'], noNullPrototype: true });
  return fc.oneof(
    { arbitrary: event.map((value) => JSON.stringify(value)), weight: 8 },
    { arbitrary: anyBytes, weight: 1 },
  );
}

/** Supplier events: an order with its items and shipments, each part sometimes malformed. */
export function supplierEventBody(orderNumbers: string[], lastYear: number): fc.Arbitrary<string | Buffer> {
  const when = orLoose(fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), dateText(lastYear)));
  const shipment = fc.record({
    id: orLoose(text), carrier: orLoose(text), service: orLoose(text), tracking_number: orLoose(text), tracking_url: orLoose(text),
    items: orLoose(fc.array(orLoose(fc.record({ sku: orLoose(text), quantity: orLoose(fc.integer()) })), { maxLength: 3 })),
    shipped_at: when, delivered_at: orLoose(fc.option(when)),
  }, { requiredKeys: [] });
  const order = fc.record({
    id: orLoose(text),
    external_id: orLoose(fc.oneof(orderNumbers.length ? fc.constantFrom(...orderNumbers) : fc.constant('TT-0000-0000'), text)),
    status: orLoose(fc.oneof({ arbitrary: fc.constantFrom(...SUPPLIER_ORDER_STATUSES), weight: 6 }, { arbitrary: text, weight: 1 })),
    status_reason: orLoose(fc.option(text)),
    items: orLoose(fc.array(orLoose(fc.record({ sku: orLoose(text), quantity: orLoose(fc.integer()), name: orLoose(text) })), { maxLength: 3 })),
    shipments: orLoose(fc.array(orLoose(shipment), { maxLength: 2 })),
    created: when, updated: when,
  }, { requiredKeys: ['id', 'external_id', 'status', 'items', 'shipments', 'updated'] });
  const event = fc.record({
    id: orLoose(fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 16 }).map((s) => `sevt_${s}`), weight: 4 }, { arbitrary: text, weight: 1 })),
    type: orLoose(fc.constantFrom('order.updated', 'order.shipped', 'order.cancelled', 'shipment.created')),
    created: when,
    data: orLoose(fc.record({ order: orLoose(order), shipment: orLoose(shipment) }, { requiredKeys: ['order'] })),
  }, { requiredKeys: ['id', 'type', 'data'] });
  return fc.oneof({ arbitrary: event.map((value) => JSON.stringify(value)), weight: 8 }, { arbitrary: anyBytes, weight: 1 });
}

const anyBytes: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  hostileText,
  fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
  fc.constantFrom('', '{', 'null', '[]', '{"id":"evt_x","type":"x"', `{"id":"evt_big","type":"x","pad":"${'x'.repeat(300 * 1024)}"}`),
);

/**
 * The header both providers use, `t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`,
 * made the way the test was asked to make it (the valid one, and the usual
 * ways of getting it wrong).
 */
export function signatureHeader(secret: string, body: string | Buffer, choice: SignatureChoice, offsetSeconds: number, nowMs = Date.now()): string | undefined {
  const t = Math.floor(nowMs / 1000) + offsetSeconds;
  const mac = (key: string) => createHmac('sha256', key).update(`${t}.`, 'utf8').update(body).digest('hex');
  switch (choice) {
    case 'missing': return undefined;
    case 'valid': return `t=${t},v1=${mac(secret)}`;
    case 'rotated': return `t=${t},v1=${mac('an_old_secret_being_rotated')},v1=${mac(secret)}`;
    case 'forged': return `t=${t},v1=${mac('not_the_secret')}`;
    case 'garbled': return `t=${t}v1=${mac(secret)}`;
  }
}

/** Whether a request was signed so that the provider's check must let it through. */
export function validlySigned(choice: SignatureChoice | undefined): boolean {
  return choice === 'valid' || choice === 'rotated';
}
