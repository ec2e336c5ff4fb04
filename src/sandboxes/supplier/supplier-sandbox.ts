import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { Logger } from '../../logger.ts';
import { controlRoutes } from './control.routes.ts';
import { dashboardRoutes } from './dashboard.routes.ts';
import { createSupplier, type DelaysMs } from './supplier-context.ts';
import { randomId } from './supplier-ids.ts';
import { supplierApiRoutes } from './supplier-api.routes.ts';

export interface SupplierSandboxOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** 0 (the default) takes any free port. */
  port?: number;
  /** The bearer token the API requires. */
  apiToken: string;
  /** Where webhooks are POSTed; may also be set later through `POST /_sandbox/config`. */
  webhookUrl?: string;
  /** Signs every webhook (HMAC-SHA256), as our SUPPLIER_WEBHOOK_SECRET. */
  webhookSecret: string;
  log?: Logger;
  /** Production and shipping take their delays divided by `speed` (default 1). */
  clock?: { speed: number };
  /** Step delays at speed 1 (default 2 s, 5 s, 10 s); also settable through the control API. */
  delaysMs?: Partial<DelaysMs>;
  /** Every n-th order ships in two packages (default 0: none). */
  splitShipmentsEvery?: number;
  /** The SKUs the supplier makes (default: any SKU not starting with UNKNOWN). */
  catalogue?: readonly string[];
  /** Waits before the 2nd, 3rd… delivery attempt of a webhook the receiver did not accept. */
  webhookRetryDelaysMs?: number[];
  /** Webhook deliveries in flight at once (default 1: they leave in the order they happened). */
  webhookConcurrency?: number;
}

export interface SupplierSandbox {
  /** The base URL it listens on, e.g. http://127.0.0.1:12112 (no trailing slash); the API is under /v1. */
  url: string;
  close(): Promise<void>;
}

export const DEFAULT_DELAYS_MS: Readonly<DelaysMs> = Object.freeze({ production: 2000, shipping: 5000, delivery: 10_000 });
export const DEFAULT_WEBHOOK_RETRY_DELAYS_MS: readonly number[] = Object.freeze([1000, 2000, 5000, 10_000, 30_000, 60_000]);

/**
 * The drop-shipping supplier sandbox: a Fastify server of its own speaking
 * our supplier API (docs/supplier-api.md) under /v1, moving orders along on a
 * clock that can be sped up, sending signed webhooks, with a control API for
 * tests (/_sandbox/) and a page for people (/). State lives in memory.
 */
export async function startSupplierSandbox(options: SupplierSandboxOptions): Promise<SupplierSandbox> {
  if (!options.apiToken) throw new Error('apiToken must not be empty');
  if (!options.webhookSecret) throw new Error('webhookSecret must not be empty');
  if (options.webhookRetryDelaysMs?.some((ms) => !Number.isFinite(ms) || ms < 0)) throw new Error('webhookRetryDelaysMs must be durations of 0 ms or more');
  const delaysMs = { ...DEFAULT_DELAYS_MS, ...options.delaysMs };
  if (Object.values(delaysMs).some((ms) => !Number.isFinite(ms) || ms < 0)) throw new Error('delaysMs must be durations of 0 ms or more');
  const log = options.log ?? pino({ level: 'silent' });
  const supplier = createSupplier({
    apiToken: options.apiToken,
    webhookUrl: options.webhookUrl ?? null,
    webhookSecret: options.webhookSecret,
    delaysMs,
    splitShipmentsEvery: options.splitShipmentsEvery ?? 0,
    speed: options.clock?.speed ?? 1,
    catalogue: options.catalogue,
    retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    webhookConcurrency: options.webhookConcurrency ?? 1,
    log,
  });
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // A benchmark makes thousands of calls: the API logs each one at debug level itself.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomId('req', 16),
  });
  await app.register(supplierApiRoutes(supplier), { prefix: '/v1' });
  await app.register(controlRoutes(supplier), { prefix: '/_sandbox' });
  await app.register(await dashboardRoutes(supplier));

  let closing: Promise<void> | undefined;
  function stop(): Promise<void> {
    closing ??= (async () => {
      supplier.clock.close();
      supplier.held.close();
      await supplier.delivery.close();
      await app.close();
    })();
    return closing;
  }
  try {
    const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    return { url, close: stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
