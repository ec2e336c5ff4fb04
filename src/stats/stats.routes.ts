import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Db } from '../db/kysely.ts';
import { renderPage } from '../http/render.ts';
import { dimensions, type DimensionInfo } from './dimensions.ts';
import { answeredNotModified, statsEtag } from './etag.ts';
import { seriesCsv, tableCsv } from './stats-export.ts';
import { freshness } from './stats.repository.ts';
import { parseEntityId, parseRangeQuery, parseStatsQuery } from './stats-query.ts';
import * as service from './stats.service.ts';

type Query = Record<string, unknown>;

/**
 * The stats pages, their CSV downloads and their JSON twins under /api.
 * Every route first reads the change marker (one tiny query) and answers 304
 * when the client's copy is current; only then does it read the rollups.
 */
export const statsRoutes: FastifyPluginAsync<{ db: Db; pool: pg.Pool }> = async (app, { db, pool }) => {
  /** The business day, or undefined when a 304 has been sent. */
  async function revalidate(request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> {
    const { marker, today } = await freshness(db);
    return answeredNotModified(request, reply, statsEtag(request, marker, today)) ? undefined : today;
  }

  app.get('/', async (request, reply) => {
    const today = await revalidate(request, reply);
    if (today === undefined) return reply;
    const range = parseRangeQuery(request.query as Query, today);
    const query = parseStatsQuery({ from: range.from, to: range.to }, today);
    return renderPage(request, reply, 'stats/overview', await service.overviewPage(db, dimensions, query, today));
  });

  for (const dimension of dimensions) registerDimension(dimension);

  function registerDimension(dimension: DimensionInfo): void {
    const base = `/stats/${dimension.slug}`;

    app.get(base, async (request, reply) => {
      const today = await revalidate(request, reply);
      if (today === undefined) return reply;
      const query = parseStatsQuery(request.query as Query, today);
      const model = query.view === 'pivot' ? await service.pivotPage(db, dimension, query) : await service.tablePage(db, dimension, query);
      return renderPage(request, reply, query.view === 'pivot' ? 'stats/pivot' : 'stats/table', model);
    });

    app.get(`${base}.csv`, async (request, reply) => {
      const today = await revalidate(request, reply);
      if (today === undefined) return reply;
      const query = parseStatsQuery(request.query as Query, today);
      if (query.view === 'pivot') return reply.redirect(`${base}.csv?${new URLSearchParams({ from: query.from, to: query.to }).toString()}`, 303);
      const body = await tableCsv(pool, db, dimension, query);
      return csvReply(reply, `${dimension.slug}_${query.from}_${query.to}.csv`).send(body);
    });

    app.get(`/api${base}`, async (request, reply) => {
      const today = await revalidate(request, reply);
      if (today === undefined) return reply;
      const query = parseStatsQuery(request.query as Query, today);
      if (query.view === 'pivot') return reply.send(await service.pivotData(db, dimension, query));
      return reply.send(service.tableJson(dimension, query, await service.tableData(db, dimension, query)));
    });

    app.get(`${base}/:id`, async (request, reply) => {
      const raw = (request.params as { id: string }).id;
      const csv = raw.endsWith('.csv');
      const id = parseEntityId(csv ? raw.slice(0, -4) : raw, dimension.singular);
      const today = await revalidate(request, reply);
      if (today === undefined) return reply;
      const range = parseRangeQuery(request.query as Query, today);
      if (csv) {
        const series = await service.entitySeries(db, dimension, id, range);
        return csvReply(reply, `${dimension.dimension}_${id}_${range.from}_${range.to}.csv`).send(seriesCsv(dimension, series));
      }
      return renderPage(request, reply, 'stats/entity', await service.entityPage(db, dimension, id, range));
    });

    app.get(`/api${base}/:id`, async (request, reply) => {
      const id = parseEntityId((request.params as { id: string }).id, dimension.singular);
      const today = await revalidate(request, reply);
      if (today === undefined) return reply;
      const range = parseRangeQuery(request.query as Query, today);
      return reply.send(service.entityJson(dimension, range, await service.entitySeries(db, dimension, id, range)));
    });
  }
};

function csvReply(reply: FastifyReply, filename: string): FastifyReply {
  return reply.type('text/csv; charset=utf-8; header=present').header('content-disposition', `attachment; filename="${filename}"`);
}
