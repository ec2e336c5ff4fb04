import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ReadRouting, ReadTarget } from '../db/read-replicas.ts';
import { HttpError } from '../http/http-error.ts';
import { renderPage } from '../http/render.ts';
import { statsReads } from '../metrics/stats-reads.ts';
import { dimensions, type DimensionInfo } from './dimensions.ts';
import { answeredNotModified, statsEtag } from './etag.ts';
import { etagScope, readNotice } from './read-notice.ts';
import { seriesCsv, tableCsv } from './stats-export.ts';
import { freshness } from './stats.repository.ts';
import { parseEntityId, parseRangeQuery, parseStatsQuery } from './stats-query.ts';
import * as service from './stats.service.ts';

type Query = Record<string, unknown>;

/** A route's reading and rendering, on the server picked for the request: the business day, and what the page says of a lagging replica. */
type Handler = (read: ReadTarget, today: string, notice: string | undefined) => Promise<FastifyReply>;

/**
 * The stats pages, their CSV downloads and their JSON twins under /api.
 * Every route first reads the change marker (one tiny query) and answers 304
 * when the client's copy is current; only then does it read the rollups.
 *
 * All of it, marker included, is read from one server: a replica when
 * DATABASE_READ_URL names fresh-enough ones, else the primary (reads.pick).
 * A read that fails on a replica is done again on the primary, so a replica
 * going away costs a retry, never an error page (docs/replicas.md).
 */
export const statsRoutes: FastifyPluginAsync<{ reads: ReadRouting }> = async (app, { reads }) => {
  async function serve(request: FastifyRequest, reply: FastifyReply, target: ReadTarget, handler: Handler): Promise<FastifyReply> {
    const notice = readNotice(target);
    // The marker from the same server as the numbers, read before them: a page is never labelled newer than it is.
    const { marker, today } = await freshness(target.db);
    void reply.header('x-stats-source', target.name);
    if (target.standby) void reply.header('x-stats-replica-lag-ms', String(target.lagMs));
    const answered = answeredNotModified(request, reply, statsEtag(request, marker, today, etagScope(target, notice)))
      ? reply : await handler(target, today, notice);
    // Counted once read: a read that fails on a replica and is done again counts for the primary only.
    statsReads.inc({ server: target.standby ? 'replica' : 'primary' });
    return answered;
  }

  /** Serves from the picked server; a replica that fails is replaced by the primary for this request. */
  async function read(request: FastifyRequest, reply: FastifyReply, handler: Handler): Promise<FastifyReply> {
    const target = reads.pick();
    if (!target.standby) return serve(request, reply, target, handler);
    try {
      return await serve(request, reply, target, handler);
    } catch (error) {
      // A 400 or 404 is the request's own, and a reply already under way cannot start again.
      if (error instanceof HttpError || reply.sent) throw error;
      reads.failed(target, error);
      request.log.warn({ err: error, replica: target.name }, 'stats read failed on a replica: reading the primary');
      void reply.removeHeader('x-stats-replica-lag-ms');
      return serve(request, reply, reads.primary, handler);
    }
  }

  app.get('/', (request, reply) => read(request, reply, async ({ db }, today, notice) => {
    const range = parseRangeQuery(request.query as Query, today);
    const query = parseStatsQuery({ from: range.from, to: range.to }, today);
    return renderPage(request, reply, 'stats/overview', { ...(await service.overviewPage(db, dimensions, query, today)), readNotice: notice });
  }));

  for (const dimension of dimensions) registerDimension(dimension);

  function registerDimension(dimension: DimensionInfo): void {
    const base = `/stats/${dimension.slug}`;

    app.get(base, (request, reply) => read(request, reply, async ({ db }, today, notice) => {
      const query = parseStatsQuery(request.query as Query, today);
      const model = query.view === 'pivot' ? await service.pivotPage(db, dimension, query) : await service.tablePage(db, dimension, query);
      return renderPage(request, reply, query.view === 'pivot' ? 'stats/pivot' : 'stats/table', { ...model, readNotice: notice });
    }));

    app.get(`${base}.csv`, (request, reply) => read(request, reply, async ({ db, pool }, today) => {
      const query = parseStatsQuery(request.query as Query, today);
      if (query.view === 'pivot') return reply.redirect(`${base}.csv?${new URLSearchParams({ from: query.from, to: query.to }).toString()}`, 303);
      const body = await tableCsv(pool, db, dimension, query);
      return csvReply(reply, `${dimension.slug}_${query.from}_${query.to}.csv`).send(body);
    }));

    app.get(`/api${base}`, (request, reply) => read(request, reply, async ({ db }, today) => {
      const query = parseStatsQuery(request.query as Query, today);
      if (query.view === 'pivot') return reply.send(await service.pivotData(db, dimension, query));
      return reply.send(service.tableJson(dimension, query, await service.tableData(db, dimension, query)));
    }));

    app.get(`${base}/:id`, async (request, reply) => {
      const raw = (request.params as { id: string }).id;
      const csv = raw.endsWith('.csv');
      const id = parseEntityId(csv ? raw.slice(0, -4) : raw, dimension.singular);
      return read(request, reply, async ({ db }, today, notice) => {
        const range = parseRangeQuery(request.query as Query, today);
        if (csv) {
          const series = await service.entitySeries(db, dimension, id, range);
          return csvReply(reply, `${dimension.dimension}_${id}_${range.from}_${range.to}.csv`).send(seriesCsv(dimension, series));
        }
        return renderPage(request, reply, 'stats/entity', { ...(await service.entityPage(db, dimension, id, range)), readNotice: notice });
      });
    });

    app.get(`/api${base}/:id`, async (request, reply) => {
      const id = parseEntityId((request.params as { id: string }).id, dimension.singular);
      return read(request, reply, async ({ db }, today) => {
        const range = parseRangeQuery(request.query as Query, today);
        return reply.send(service.entityJson(dimension, range, await service.entitySeries(db, dimension, id, range)));
      });
    });
  }
};

function csvReply(reply: FastifyReply, filename: string): FastifyReply {
  return reply.type('text/csv; charset=utf-8; header=present').header('content-disposition', `attachment; filename="${filename}"`);
}
