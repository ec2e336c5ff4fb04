import type { FastifyPluginAsync } from 'fastify';
import type pg from 'pg';
import { migrationStatus } from '../db/migrate.ts';

/** GET /healthz: public; 200 when the database answers and the schema is current, else 503 with the reason. */
export const healthzRoutes: FastifyPluginAsync<{ pool: pg.Pool }> = async (app, { pool }) => {
  app.get('/healthz', async (request, reply) => {
    try {
      const status = await migrationStatus(pool);
      const current = status.pending.length === 0 && status.replaceableSqlCurrent;
      return reply.status(current ? 200 : 503).send({
        status: current ? 'ok' : 'degraded',
        database: 'reachable',
        migrations: current ? 'current' : status.pending.length ? `pending: ${status.pending.join(', ')}` : 'sql/ not applied',
      });
    } catch (error) {
      request.log.warn({ err: error }, 'health check: database unreachable');
      return reply.status(503).send({ status: 'down', database: 'unreachable', migrations: 'unknown' });
    }
  });
};
