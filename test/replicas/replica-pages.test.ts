import fc from 'fast-check';
import type pg from 'pg';
import t, { type Test } from 'tap';
import { statsReadFallbacks } from '../../src/metrics/stats-reads.ts';
import { toCents } from '../../src/stats/format.ts';
import { freePort } from '../helpers/free-port.ts';
import { replicaPairMissing, startReplicaPair } from '../helpers/replica.ts';
import { expectedRollups, fold } from '../helpers/rollups.ts';
import { insertSales, makeCatalogue, makeSale, type Catalogue } from '../factories/sales.ts';
import { replicaHarness, type ReplicaHarness } from './replica-harness.ts';

/**
 * The stats pages on a real streaming replica (DATABASE_READ_URL): a primary
 * and a replica of the run's PostgreSQL version made for this file
 * (test/helpers/replica.ts). Numbers are compared with a GROUP BY over the
 * primary's sales; lag is made deterministic with pg_wal_replay_pause().
 */

const missing = await replicaPairMissing();
t.test('the stats pages on a streaming replica', { skip: missing }, main);

const RANGE = 'from=2026-03-01&to=2026-03-10';
const AGENTS_API = `/api/stats/agents?${RANGE}&sort=day&dir=asc&per_page=500`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ApiRow { day: string; id: string; sales_count: number; total_price: string }

/** The agents' rows as the API shows them, in a comparable form. */
function apiRows(body: string): string[] {
  return (JSON.parse(body) as { rows: ApiRow[] }).rows.map((r) => `${r.day} ${r.id} ${r.sales_count} ${toCents(r.total_price)}`);
}

/** The same rows by the tests' own GROUP BY over the primary's sales. */
async function groupByOnPrimary(pool: pg.Pool): Promise<string[]> {
  return (await expectedRollups(pool))
    .filter((r) => r.dimension === 'agent' && r.day >= '2026-03-01' && r.day <= '2026-03-10')
    .map((r) => `${r.day} ${r.entity_id} ${r.sales_count} ${toCents(r.total_price)}`);
}

async function sell(pool: pg.Pool, catalogue: Catalogue, n: number, day = 5): Promise<void> {
  await insertSales(pool, Array.from({ length: n }, (_, i) => makeSale(catalogue, {
    sales_agent_id: catalogue.agents[i % catalogue.agents.length]!, price: `${i + 1}.25`, created_at: `2026-03-${String(day).padStart(2, '0')}T10:00:00Z`,
  })));
}

async function main(t: Test): Promise<void> {
  const pair = await startReplicaPair(t);
  t.comment(`PostgreSQL ${pair.major} primary and replica, made by ${pair.method}`);
  let catalogue: Catalogue | undefined;
  async function setup(tt: Test, env: Record<string, string> = {}, extra: string[] = []): Promise<ReplicaHarness> {
    const h = await replicaHarness(tt, pair, env, extra);
    catalogue ??= await makeCatalogue(h.pool, 4);
    return h;
  }

  t.test('a page read from the replica equals a GROUP BY on the primary once the replica has replayed', async (t) => {
    const h = await setup(t);
    const sale = fc.record({ agent: fc.nat(3), day: fc.integer({ min: 1, max: 10 }), cents: fc.integer({ min: 1, max: 1_000_000 }) });
    await fc.assert(fc.asyncProperty(fc.array(sale, { minLength: 1, maxLength: 30 }), fc.boolean(), async (sales, folded) => {
      await insertSales(h.pool, sales.map((s) => makeSale(catalogue!, {
        sales_agent_id: catalogue!.agents[s.agent]!, price: (s.cents / 100).toFixed(2), created_at: `2026-03-${String(s.day).padStart(2, '0')}T12:00:00Z`,
      })));
      if (folded) await fold(h.pool);
      await pair.waitForReplay();
      await h.reads.check();
      const response = await h.get(AGENTS_API);
      t.equal(response.headers['x-stats-source'], 'replica-1', 'read from the replica');
      return response.statusCode === 200 && JSON.stringify(apiRows(response.body)) === JSON.stringify(await groupByOnPrimary(h.pool));
    }), { numRuns: 12 });
    const page = await h.get(`/stats/agents?${RANGE}`);
    t.equal(page.statusCode, 200);
    t.equal(page.headers['x-stats-source'], 'replica-1', 'the HTML page too');
    t.notMatch(page.body, 'read-notice', 'a replica that has caught up says nothing');
  });

  t.test('a paused replica further behind than DATABASE_READ_MAX_LAG_MS is not read: the page comes from the primary, current', async (t) => {
    const h = await setup(t, { DATABASE_READ_MAX_LAG_MS: '300', DATABASE_READ_NOTICE_LAG_MS: '100' });
    await pair.pauseReplay();
    t.teardown(() => pair.resumeReplay());
    await sell(h.pool, catalogue!, 5);
    await h.reads.check();
    await sleep(400);
    await h.reads.check();
    const response = await h.get(AGENTS_API);
    t.equal(response.statusCode, 200);
    t.equal(response.headers['x-stats-source'], 'primary');
    t.same(apiRows(response.body), await groupByOnPrimary(h.pool), 'the numbers are the primary\'s current ones');

    await pair.resumeReplay();
    await pair.waitForReplay();
    await h.reads.check();
    const again = await h.get(AGENTS_API);
    t.equal(again.headers['x-stats-source'], 'replica-1', 'read from the replica again once it has caught up');
    t.same(apiRows(again.body), await groupByOnPrimary(h.pool));
  });

  t.test('a replica behind by more than the notice threshold but within the max lag serves the page, and the page says so', async (t) => {
    const h = await setup(t, { DATABASE_READ_MAX_LAG_MS: '600000', DATABASE_READ_NOTICE_LAG_MS: '1000' });
    await pair.waitForReplay();
    const before = await groupByOnPrimary(h.pool);
    await pair.pauseReplay();
    t.teardown(() => pair.resumeReplay());
    await sell(h.pool, catalogue!, 3);
    await h.reads.check();
    await sleep(1100);
    await h.reads.check();
    const json = await h.get(AGENTS_API);
    t.equal(json.headers['x-stats-source'], 'replica-1');
    t.ok(Number(json.headers['x-stats-replica-lag-ms']) >= 1000, `the lag is told (${String(json.headers['x-stats-replica-lag-ms'])} ms)`);
    t.same(apiRows(json.body), before, 'the replica\'s numbers: those before the paused writes');
    t.not(JSON.stringify(before), JSON.stringify(await groupByOnPrimary(h.pool)), 'which differ from the primary\'s');
    const page = await h.get(`/stats/agents?${RANGE}`);
    t.match(page.body, /class="notice read-notice" role="status">These numbers come from a read replica that was at least \d+ s behind the primary/);
  });

  t.test('ETags: a stale replica never answers 304 to a newer copy, and never labels old numbers with a current ETag', async (t) => {
    await pair.waitForReplay();
    // Two apps on the same pair: one that will not read a lagging replica, one that still does.
    const strict = await setup(t, { DATABASE_READ_MAX_LAG_MS: '300', DATABASE_READ_NOTICE_LAG_MS: '300' });
    const lenient = await setup(t, { DATABASE_READ_MAX_LAG_MS: '600000', DATABASE_READ_NOTICE_LAG_MS: '600000' });
    await lenient.reads.check();

    const fromReplica = await lenient.get(AGENTS_API);
    t.equal(fromReplica.headers['x-stats-source'], 'replica-1');
    const replicaTag = String(fromReplica.headers.etag);
    t.equal((await lenient.get(AGENTS_API, { 'if-none-match': replicaTag })).statusCode, 304, 'a current replica revalidates its own copy');

    await pair.pauseReplay();
    t.teardown(() => pair.resumeReplay());
    await sell(strict.pool, catalogue!, 4);
    await strict.reads.check();
    await sleep(400);
    await strict.reads.check();
    await lenient.reads.check();
    const fromPrimary = await strict.get(AGENTS_API);
    t.equal(fromPrimary.headers['x-stats-source'], 'primary');
    const currentTag = String(fromPrimary.headers.etag);
    t.not(currentTag, replicaTag, 'the new numbers have a new ETag');

    const stale = await lenient.get(AGENTS_API, { 'if-none-match': currentTag });
    t.equal(stale.headers['x-stats-source'], 'replica-1', 'the lenient app still reads the paused replica');
    t.equal(stale.statusCode, 200, 'no 304 for a copy newer than the replica');
    t.not(String(stale.headers.etag), currentTag, 'the older numbers are not labelled with the current ETag');
    t.not(JSON.stringify(apiRows(stale.body)), JSON.stringify(apiRows(fromPrimary.body)), 'and they are indeed older');
    t.equal((await lenient.get(AGENTS_API, { 'if-none-match': replicaTag })).statusCode, 304, 'the replica still revalidates the copy it labelled');

    // The primary at the state the replica shows would label it differently still: a 304 crosses no server kind.
    t.equal((await strict.get(AGENTS_API, { 'if-none-match': replicaTag })).statusCode, 200, 'the primary does not revalidate a replica\'s copy');

    await pair.resumeReplay();
    await pair.waitForReplay();
    await lenient.reads.check();
    const caughtUp = await lenient.get(AGENTS_API, { 'if-none-match': replicaTag });
    t.equal(caughtUp.statusCode, 200, 'after replay the replica\'s old copy is stale');
    t.same(apiRows(caughtUp.body), apiRows(fromPrimary.body), 'and the replica shows the primary\'s numbers');
  });

  t.test('several replicas: reads go to each in turn, and one that does not answer is skipped', async (t) => {
    const dead = `postgres://postgres@127.0.0.1:${await freePort()}/tanktop`;
    const h = await setup(t, {}, [pair.replicaUrl, dead]);
    const sources = [];
    for (let i = 0; i < 6; i++) sources.push((await h.get(AGENTS_API)).headers['x-stats-source']);
    t.same(sources, ['replica-1', 'replica-2', 'replica-1', 'replica-2', 'replica-1', 'replica-2'], 'replica-3 refuses connections: never picked');
  });

  t.test('a server that is not a standby (a promoted replica, a primary) is not read', async (t) => {
    const h = await setup(t, { DATABASE_READ_URL: pair.primaryUrl });
    const response = await h.get(AGENTS_API);
    t.equal(response.statusCode, 200);
    t.equal(response.headers['x-stats-source'], 'primary');
  });

  t.test('a standby of another cluster is not read: its numbers are not this primary\'s', async (t) => {
    const other = await startReplicaPair(t);
    const h = await setup(t, { DATABASE_READ_URL: other.replicaUrl });
    const response = await h.get(AGENTS_API);
    t.equal(response.statusCode, 200);
    t.equal(response.headers['x-stats-source'], 'primary');
    t.same(apiRows(response.body), await groupByOnPrimary(h.pool));
  });

  t.test('a stopped replica: pages come from the primary with a 200, and signing in works', async (t) => {
    const h = await setup(t);
    await pair.waitForReplay();
    await h.reads.check();
    t.equal((await h.get(AGENTS_API)).headers['x-stats-source'], 'replica-1');
    await pair.stopReplica();
    t.teardown(() => pair.startReplica());
    const failedReads = async () => (await statsReadFallbacks.get()).values.find((v) => v.labels.reason === 'query_failed')?.value ?? 0;
    const failedBefore = await failedReads();
    // Before any check has noticed: the read fails on the replica and is done again on the primary.
    const retried = await h.get(AGENTS_API);
    t.equal(retried.statusCode, 200, 'no error page');
    t.equal(retried.headers['x-stats-source'], 'primary');
    t.equal(retried.headers['x-stats-replica-lag-ms'], undefined, 'no replica lag on the primary\'s response');
    t.equal(await failedReads(), failedBefore + 1, 'counted in tanktop_stats_read_fallbacks_total{reason="query_failed"}');
    t.same(apiRows(retried.body), await groupByOnPrimary(h.pool));
    for (const url of [`/stats/agents?${RANGE}`, `/stats/customers.csv?${RANGE}`, '/', `/stats/products/${catalogue!.products[0]}?${RANGE}`]) {
      const response = await h.get(url);
      t.equal(response.statusCode, 200, `${url}: 200`);
      t.equal(response.headers['x-stats-source'], 'primary', `${url}: from the primary`);
    }
    const { response } = await h.login('ann', 'correct horse battery');
    t.equal(response.statusCode, 303, 'sign-in works with the replica down: sessions live on the primary');

    await pair.startReplica();
    await pair.waitForReplay();
    await h.reads.check();
    t.equal((await h.get(AGENTS_API)).headers['x-stats-source'], 'replica-1', 'back on the replica once it answers its check');
  });

  t.test('a replica stopped in the middle of a CSV download cuts that download, and the service carries on', async (t) => {
    const h = await setup(t);
    // Enough rows that the download waits on its reader (backpressure) with the cursor open between fetches.
    await h.pool.query(`
      with c as (insert into customers (name, email) select 'Bulk ' || i, 'bulk' || i || '@example.com' from generate_series(1, 60000) as i returning id)
      insert into sales (customer_id, product_id, sales_agent_id, price, created_at)
      select c.id, $1, $2, 1.50, '2026-03-07T09:00:00Z' from c`, [catalogue!.products[0], catalogue!.agents[0]]);
    await pair.waitForReplay(120_000);
    await h.reads.check();
    const base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${base}/stats/customers.csv?${RANGE}`, { headers: { cookie: h.cookie } });
    t.equal(response.headers.get('x-stats-source'), 'replica-1', 'the download is read from the replica');
    const reader = response.body!.getReader();
    await reader.read();
    await pair.stopReplica();
    t.teardown(() => pair.startReplica());
    await sleep(500);
    let received = 0;
    const ended = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return 'ended';
          received += value.length;
        }
      } catch {
        return 'cut';
      }
    })();
    t.ok(received < 60_000 * 30, `the file stops short (${ended} after ${received} more bytes)`);
    const after = await h.get(AGENTS_API);
    t.equal(after.statusCode, 200, 'the service still answers');
    t.equal(after.headers['x-stats-source'], 'primary');
    await pair.startReplica();
    await pair.waitForReplay();
  });

}
