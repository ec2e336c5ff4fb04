import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import { HttpError } from '../http/http-error.ts';
import { shown } from '../http/input.ts';
import { renderPage } from '../http/render.ts';
import type { Logger } from '../logger.ts';
import { getInvoicePdf } from '../orders/invoices.repository.ts';
import type { Order } from '../orders/orders.schema.ts';
import { cancelOrder, refundOrder, resubmitToSupplier, type SupplierActionDeps } from '../supplier/supplier-actions.ts';
import { deadLettersPage } from './ops-dead-letters.service.ts';
import { loadOrder, orderPage, type OrderCapabilities } from './ops-order.service.ts';
import { orderListPage } from './ops-orders.service.ts';
import { opsQueues } from './ops-queues.ts';
import { bad, parseFlashQuery, parseInvoiceId, parseOrderListQuery, parseOrderRef, parseRetryForm, type Flash } from './ops-query.ts';
import { retryJob } from './ops-retry.service.ts';

export interface OpsRoutesOptions {
  db: Db;
  pool: pg.Pool;
  config: Config;
  log: Logger;
  /** The job queue: Retry and every action need it; without one those buttons are hidden. */
  boss?: PgBoss;
}

/** An operator's action on an order (src/supplier/supplier-actions.ts): idempotent, recorded, 409 when not allowed. */
type OrderAction = (deps: SupplierActionDeps, orderId: string, options: { actor: string }) => Promise<string>;

type Query = Record<string, unknown>;
type Params = { ref: string };

/**
 * The operations pages (signed-in, like every route not marked public):
 * the orders list, one order's timeline with its actions, and the jobs that
 * failed for good. Every action is a POST form checked against the CSRF
 * token, acts once however often it is sent, is recorded in order_events
 * with `ops:<user name>` as its source, and answers with a redirect (303)
 * to a page that says what happened; a refusal (409) shows its sentence on
 * the order's page.
 */
export const opsRoutes: FastifyPluginAsync<OpsRoutesOptions> = async (app, options) => {
  const { db, pool, config, log, boss } = options;
  const queues = opsQueues();
  // Every action enqueues a job (a refund, a submission, a retry): none is offered without the job queue.
  const can: OrderCapabilities = { jobs: boss !== undefined };
  const actor = (request: FastifyRequest) => `ops:${request.user!.name}`;
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'private, no-store');
  /** The app's pino logger, bound to the request (request.log is typed as Fastify's narrower logger). */
  const logOf = (request: FastifyRequest): Logger => log.child({ reqId: request.id, user: request.user?.name });

  app.get('/ops/orders', async (request, reply) => {
    const query = parseOrderListQuery(request.query as Query);
    return renderPage(request, noStore(reply), 'ops/orders', await orderListPage(db, query));
  });

  app.get('/ops/orders/:ref', async (request, reply) => {
    const ref = parseOrderRef((request.params as Params).ref);
    const { done } = parseFlashQuery(request.query as Query);
    const order = await loadOrder(db, ref);
    return renderPage(request, noStore(reply), 'ops/order', await orderPage(db, order, queues, can, { done }));
  });

  /** An action on an order: 303 to its page with the flash, or its page with the refusal (409). */
  async function act(request: FastifyRequest, reply: FastifyReply, action: (order: Order) => Promise<Flash>) {
    const order = await loadOrder(db, parseOrderRef((request.params as Params).ref));
    try {
      const done = await action(order);
      return reply.redirect(`/ops/orders/${order.id}?done=${done}`, 303);
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode !== 409) throw error;
      const message = (error as Error).message;
      request.log.info({ orderId: order.id, reason: message }, 'ops: action refused');
      const fresh = await loadOrder(db, { orderId: order.id });
      return renderPage(request, noStore(reply.status(409)), 'ops/order', await orderPage(db, fresh, queues, can, { problem: message }));
    }
  }

  const needJobs = (what: string): PgBoss => {
    if (!boss) throw new HttpError(409, 'no_job_queue', `${what} needs the job queue, which this process does not have.`);
    return boss;
  };
  const supplierDeps = (request: FastifyRequest) => ({ db, pool, boss, config, log: logOf(request) });
  const post = { preValidation: app.csrfProtection };

  app.post('/ops/orders/:ref/retry', post, async (request, reply) => act(request, reply, async (order) => {
    const job = parseRetryForm(request.body, queues.isKnown);
    const outcome = await retryJob({ db, boss: needJobs('Retrying a job'), queues, log: logOf(request) }, { ...job, actor: actor(request), orderId: order.id });
    return outcome === 'retried' ? 'retry' : outcome === 'already' ? 'retry-already' : 'retry-gone';
  }));

  /** The actions answer what they did; one whose answer starts with `already` found it done. */
  const actionRoute = (path: string, flash: 'refund' | 'cancel' | 'resubmit', action: OrderAction, what: string) =>
    app.post(`/ops/orders/:ref/${path}`, post, async (request, reply) => act(request, reply, async (order) => {
      needJobs(what);
      const outcome = await action(supplierDeps(request), order.id, { actor: actor(request) });
      return outcome.startsWith('already') ? `${flash}-already` : flash;
    }));
  actionRoute('refund', 'refund', refundOrder, 'A refund');
  actionRoute('cancel', 'cancel', cancelOrder, 'Cancelling an order');
  actionRoute('resubmit', 'resubmit', resubmitToSupplier, 'Sending an order to the supplier again');

  app.get('/ops/dead-letters', async (request, reply) => {
    const { done, value } = parseFlashQuery(request.query as Query, ['queue']);
    const queue = value('queue');
    if (queue !== undefined && !queues.isKnown(queue)) throw bad(`"${shown(queue)}" is not one of the application's queues.`);
    return renderPage(request, noStore(reply), 'ops/dead-letters', await deadLettersPage(db, queues, { queue, done, canRetry: boss !== undefined }));
  });

  app.post('/ops/dead-letters/retry', post, async (request, reply) => {
    const job = parseRetryForm(request.body, queues.isKnown);
    const outcome = await retryJob({ db, boss: needJobs('Retrying a job'), queues, log: logOf(request) }, { ...job, actor: actor(request) });
    return reply.redirect(`/ops/dead-letters?done=${outcome === 'retried' ? 'retry' : outcome === 'already' ? 'retry-already' : 'retry-gone'}`, 303);
  });

  app.get('/ops/invoices/:id/pdf', async (request, reply) => {
    const id = parseInvoiceId((request.params as { id: string }).id);
    const document = await getInvoicePdf(db, id);
    if (!document) throw new HttpError(404, 'document_not_ready', `There is no rendered PDF for invoice ${id} (yet).`);
    return noStore(reply).type('application/pdf')
      .header('content-disposition', `attachment; filename="${document.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`)
      .send(document.pdf);
  });
};
