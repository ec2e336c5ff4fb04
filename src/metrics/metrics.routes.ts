import type { FastifyPluginAsync } from 'fastify';
import { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import { HttpError } from '../http/http-error.ts';
import { allQueues } from '../jobs/all-queues.ts';
import type { QueueSpec } from '../jobs/queue-spec.ts';
import { createDatabaseGauges } from './database-gauges.ts';
import { metricsAccess } from './metrics-access.ts';
import { countJobs, countWorkflow } from './metrics.repository.ts';
import { processMetrics } from './process-metrics.ts';

export interface MetricsRoutesOptions {
  db: Db;
  config: Pick<Config, 'metricsToken'>;
  /** The queues to report (default: every queue of the application). */
  queues?: readonly QueueSpec[];
}

/**
 * GET /metrics in Prometheus's text format: counts of orders, jobs, webhooks
 * and e-mails read from the database at each scrape (so they survive restarts
 * and agree across processes), plus the process's own metrics. Counts only,
 * no personal data, but operational: METRICS_TOKEN or loopback (metrics-access.ts).
 * Public to the session sign-in, which a scraper does not have.
 *
 * Each app instance has its own registry for its gauges (tests and several
 * instances in one process do not collide), merged with the process's one.
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { db, config, queues = allQueues }) => {
  const own = new Registry();
  const queueNames = queues.map((queue) => queue.name);
  const gauges = createDatabaseGauges(own, queueNames);
  const registry = Registry.merge([processMetrics(), own]);

  app.get('/metrics', { config: { public: true } }, async (request, reply) => {
    const access = metricsAccess(request, config.metricsToken);
    if (access === 'unauthorized') {
      void reply.header('www-authenticate', 'Bearer realm="metrics"');
      throw new HttpError(401, 'unauthorized', 'The metrics need an Authorization: Bearer header with the METRICS_TOKEN.');
    }
    if (access === 'forbidden') {
      throw new HttpError(403, 'forbidden', 'The metrics are open to this machine only; set METRICS_TOKEN to scrape them from elsewhere.');
    }
    const [workflow, jobs] = await Promise.all([countWorkflow(db), countJobs(db, queueNames)]);
    gauges.set(workflow, jobs);
    const text = await registry.metrics();
    return reply.header('cache-control', 'no-store').type(registry.contentType).send(text);
  });
};
