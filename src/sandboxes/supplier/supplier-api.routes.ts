import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { callOf, idempotencyKeyOf, installApiGuards, pathOf } from './api-guards.ts';
import { takeAcceptThenTimeout, takeReject, type RejectCode } from './faults.ts';
import { fingerprint } from './idempotency.ts';
import { acceptOrder, cancelOrder } from './order-progression.ts';
import { parseOrderRequest, type OrderRequest } from './order-request.ts';
import type { Supplier } from './supplier-context.ts';
import { notFound, SupplierApiError, validationFailed } from './supplier-error.ts';
import { snapshot } from './supplier-objects.ts';
import type { OrderRecord } from './supplier-store.ts';

interface ReferenceParams {
  /** `@<external_id>` or the supplier's order id. */
  reference: string;
}

const MAX_KEY_LENGTH = 255;

/** The supplier's API (docs/supplier-api.md), mounted under /v1. */
export function supplierApiRoutes(supplier: Supplier) {
  return async function routes(api: FastifyInstance): Promise<void> {
    installApiGuards(api, supplier);

    api.post('/orders', async (request, reply) => createOrder(supplier, request, reply));

    api.get<{ Params: ReferenceParams }>('/orders/:reference', async (request) => {
      return snapshot(findOrder(supplier, request).order);
    });

    api.post<{ Params: ReferenceParams }>('/orders/:reference/cancel', async (request) => {
      const record = findOrder(supplier, request);
      cancelOrder(supplier, record);
      return snapshot(record.order);
    });
  };
}

/**
 * `POST /orders`: a replay for a known Idempotency-Key and the same body;
 * otherwise validation, the external_id's uniqueness, injected rejections,
 * and a new order (201), remembered under its key before the answer leaves,
 * so a retry after a lost answer gets this order back.
 */
async function createOrder(supplier: Supplier, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  if (key === null) throw validationFailed('Idempotency-Key', 'The Idempotency-Key header is required: a unique key per order you submit (retries reuse it).');
  if (key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw validationFailed('Idempotency-Key', `The Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces.`);
  }
  const print = fingerprint(request.body);
  const remembered = supplier.idempotency.lookup(supplier.apiToken, key, print);
  if (remembered) {
    supplier.requests.note(request, { replayed: true, orderId: remembered.orderId });
    return reply.code(remembered.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8').send(remembered.body);
  }

  const order = parseOrderRequest(request.body, supplier.catalogue);
  const existing = supplier.store.byExternalId(order.externalId);
  if (existing) {
    supplier.requests.note(request, { orderId: existing.order.id });
    throw new SupplierApiError(409, 'duplicate_external_id',
      `An order with external_id ${order.externalId} exists already (${existing.order.id}); GET /orders/@${order.externalId} to see it.`,
      { order_id: existing.order.id, external_id: order.externalId });
  }
  const rejection = takeReject(supplier.faults);
  if (rejection !== undefined) {
    supplier.requests.note(request, { fault: 'reject' });
    throw injectedRejection(rejection, order);
  }

  const record = acceptOrder(supplier, order);
  const body = JSON.stringify(record.order);
  supplier.idempotency.remember(supplier.apiToken, key, { fingerprint: print, status: 201, body, orderId: record.order.id });
  supplier.requests.note(request, { orderId: record.order.id });

  const holdMs = takeAcceptThenTimeout(supplier.faults);
  if (holdMs !== undefined) {
    // The order exists; the answer never comes. The connection stays open, then drops.
    supplier.requests.note(request, { fault: 'acceptThenTimeout' });
    supplier.requests.write(request, { method: request.method, path: pathOf(request), status: null, ...callOf(request) });
    reply.hijack();
    supplier.held.hold(request.raw.socket, holdMs);
    supplier.log.info({ orderId: record.order.id, holdMs }, 'order created; answer held (fault)');
    return reply;
  }
  return reply.code(201).header('location', `/v1/orders/${record.order.id}`).type('application/json; charset=utf-8').send(body);
}

function findOrder(supplier: Supplier, request: FastifyRequest<{ Params: ReferenceParams }>): OrderRecord {
  const { reference } = request.params;
  const record = supplier.store.find(reference);
  if (!record) {
    throw notFound(reference.startsWith('@') ? `There is no order with external_id ${reference.slice(1)}.` : `There is no order ${reference}.`);
  }
  supplier.requests.note(request, { orderId: record.order.id, externalId: record.order.external_id });
  return record;
}

function injectedRejection(code: RejectCode, order: OrderRequest): SupplierApiError {
  const sku = order.items[0]?.sku ?? '';
  switch (code) {
    case 'invalid_address':
      return new SupplierApiError(422, code, 'The carrier cannot deliver to this address (a rejection injected by the supplier sandbox).', { field: 'recipient' });
    case 'unknown_sku':
      return new SupplierApiError(422, code, `We do not make ${sku} (a rejection injected by the supplier sandbox).`, { field: 'items[0].sku', sku });
    case 'out_of_stock':
      return new SupplierApiError(422, code, `${sku} is out of stock (a rejection injected by the supplier sandbox).`, { field: 'items[0].sku', sku });
  }
}
