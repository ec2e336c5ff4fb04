import type { FastifyError, FastifyInstance } from 'fastify';
import { addFaults, noFaults } from './faults.ts';
import { advanceOrder, planPackages } from './order-progression.ts';
import type { DelaysMs, Supplier, SupplierSettings } from './supplier-context.ts';
import { notFound, SupplierApiError } from './supplier-error.ts';
import { ORDER_STATUSES, snapshot, type OrderStatus } from './supplier-objects.ts';
import type { OrderRecord } from './supplier-store.ts';

const MAX_DELAY_MS = 24 * 60 * 60 * 1000;

/**
 * The control API for tests and demos, JSON under /_sandbox/: settings,
 * faults, moving an order by hand, and what happened (orders, API calls,
 * webhook events with their delivery attempts). Errors have the API's shape.
 */
export function controlRoutes(supplier: Supplier) {
  return async function routes(app: FastifyInstance): Promise<void> {
    const { store, settings, faults, delivery } = supplier;

    app.setErrorHandler((error: FastifyError | SupplierApiError, request, reply) => {
      if (error instanceof SupplierApiError) return reply.code(error.status).send(error.body());
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, 'supplier sandbox control call failed');
      return reply.code(status).send({ error: { code: status === 500 ? 'internal_error' : 'validation_failed', message: error.message } });
    });

    const configView = () => ({ ...settings, delaysMs: { ...settings.delaysMs }, speed: supplier.clock.speed });

    app.get('/config', async () => configView());

    app.post('/config', async (request) => {
      Object.assign(settings, settingsChange(request.body ?? {}, settings));
      return configView();
    });

    app.get('/faults', async () => faults);

    app.post('/faults', async (request) => {
      addFaults(faults, request.body ?? {});
      return faults;
    });

    app.delete('/faults', async () => {
      Object.assign(faults, noFaults());
      // What a reorder fault was holding still goes out (newest first), as it would have.
      delivery.releaseHeld();
      return faults;
    });

    app.get('/orders', async () => ({ data: store.all().map(controlView) }));

    app.get<{ Params: { externalId: string } }>('/orders/:externalId', async (request) => controlView(orderOf(supplier, request.params.externalId)));

    app.post<{ Params: { externalId: string }; Body: { to?: unknown } | undefined }>('/orders/:externalId/advance', async (request) => {
      const record = orderOf(supplier, request.params.externalId);
      const to = request.body?.to;
      if (typeof to !== 'string' || !(ORDER_STATUSES as readonly string[]).includes(to)) throw invalid(`to must be one of ${ORDER_STATUSES.join(', ')}.`);
      advanceOrder(supplier, record, to as OrderStatus);
      return controlView(record);
    });

    app.post<{ Params: { externalId: string }; Body: { packages?: unknown } | undefined }>('/orders/:externalId/split', async (request) => {
      const record = orderOf(supplier, request.params.externalId);
      const packages = request.body?.packages ?? 2;
      if (packages !== 1 && packages !== 2) throw invalid('packages must be 1 or 2.');
      planPackages(record, packages);
      return controlView(record);
    });

    app.get<{ Querystring: { type?: string; externalId?: string } }>('/events', async (request) => {
      const { type, externalId } = request.query;
      return { data: delivery.reports().filter((report) => (!type || report.type === type) && (!externalId || report.externalId === externalId)) };
    });

    app.get<{ Params: { id: string } }>('/events/:id', async (request) => {
      const report = delivery.report(request.params.id);
      if (!report) throw notFound(`There is no event ${request.params.id}.`);
      return report;
    });

    app.post<{ Params: { id: string } }>('/events/:id/resend', async (request) => {
      if (!delivery.resend(request.params.id)) throw notFound(`There is no event ${request.params.id}.`);
      return delivery.report(request.params.id);
    });

    app.get('/requests', async () => ({ data: supplier.requests.list() }));

    app.delete('/requests', async () => {
      supplier.requests.clear();
      return { data: [] };
    });
  };
}

/** An order as the control API shows it: the API's object plus what the sandbox has planned for it. */
export function controlView(record: OrderRecord) {
  return {
    ...snapshot(record.order),
    sandbox: {
      packages: record.packages,
      fate: record.fate,
      next: record.next ? { status: record.next.status, at: record.next.timer.at } : null,
    },
  };
}

function orderOf(supplier: Supplier, externalId: string): OrderRecord {
  const record = supplier.store.byExternalId(externalId);
  if (!record) throw notFound(`There is no order with external_id ${externalId}.`);
  return record;
}

/** The settings a `POST /config` body asks for; a bad body changes nothing. */
function settingsChange(body: unknown, current: SupplierSettings): Partial<SupplierSettings> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('The body must be a JSON object.');
  const { webhookUrl, delaysMs, splitShipmentsEvery, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalid(`Unknown setting: ${Object.keys(rest).join(', ')}.`);
  const change: Partial<SupplierSettings> = {};
  if (webhookUrl !== undefined) {
    if (webhookUrl !== null && !isHttpUrl(webhookUrl)) throw invalid('webhookUrl must be an http(s) URL, or null for none.');
    change.webhookUrl = webhookUrl as string | null;
  }
  if (delaysMs !== undefined) change.delaysMs = delays(delaysMs, current.delaysMs);
  if (splitShipmentsEvery !== undefined) {
    if (!Number.isSafeInteger(splitShipmentsEvery) || (splitShipmentsEvery as number) < 0) throw invalid('splitShipmentsEvery must be a whole number, 0 for never.');
    change.splitShipmentsEvery = splitShipmentsEvery as number;
  }
  return change;
}

function delays(value: unknown, current: DelaysMs): DelaysMs {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('delaysMs must be an object: { production?, shipping?, delivery? }.');
  const next = { ...current };
  for (const [key, ms] of Object.entries(value)) {
    if (key !== 'production' && key !== 'shipping' && key !== 'delivery') throw invalid(`Unknown delay: ${key}.`);
    if (!Number.isSafeInteger(ms) || (ms as number) < 0 || (ms as number) > MAX_DELAY_MS) throw invalid(`delaysMs.${key} must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}.`);
    next[key] = ms as number;
  }
  return next;
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function invalid(message: string): SupplierApiError {
  return new SupplierApiError(400, 'validation_failed', message);
}
