/**
 * Issue 15's fuzz test: every route the app registers (read from Fastify,
 * not listed here), signed in and not, with hostile text, extreme and
 * malformed dates, huge numbers, repeated parameters, arbitrary path
 * parameters, form and JSON bodies, and validly signed webhook bodies. Every
 * answer is a 2xx, 3xx or 4xx (a 4xx with a sentence), within a time bound,
 * never a redirect off the site; the process stays alive and small; and the
 * webhooks it accepted are stored once each with one job, jobs that then
 * complete.
 *
 * Knobs (environment):
 *   FUZZ_RUNS        requests per route (default 60)
 *   FUZZ_SOCKET_RUNS requests per GET route over a real socket (default FUZZ_RUNS / 5)
 *   FUZZ_SEED, FUZZ_PATH  replay what a failure printed (with FUZZ_ROUTE to run that route only)
 *   FUZZ_ROUTE       a regular expression over "METHOD /url": only those routes
 *   FUZZ_IGNORE      a regular expression over a problem's "METHOD /url: problem": look past a known one
 *   FUZZ_REQUEST_MS  the time bound of one request (default 5000)
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import t, { type Test } from 'tap';
import { hashPassword } from '../../src/auth/password.ts';
import { createSession, insertUser } from '../../src/auth/users.repository.ts';
import { loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { allQueues } from '../../src/jobs/all-queues.ts';
import { failureOutput } from '../../src/jobs/work-queue.ts';
import { FLASHES } from '../../src/ops/ops-query.ts';
import { processStripeEventJob } from '../../src/orders/jobs/process-stripe-event.job.ts';
import { Queues } from '../../src/orders/order-queues.ts';
import { FULFILMENT_STATES, PAYMENT_STATES } from '../../src/orders/order-states.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';
import { startGatewaySandbox } from '../../src/sandboxes/gateway/gateway-sandbox.ts';
import { orderAccess } from '../../src/shop/order-access.ts';
import { sortKeys } from '../../src/stats/stats-query.ts';
import { processSupplierEventJob } from '../../src/supplier/jobs/process-supplier-event.job.ts';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';
import { startTestBoss } from '../helpers/job-queue.ts';
import { insertOrder } from '../helpers/order-fixtures.ts';
import { loadFixture } from '../stats-pages/fixture.ts';
import { cookieHeader, formToken, PASSWORD } from '../stats-pages/app-harness.ts';
import { APP_ORIGIN, problemsWith, type Seen } from './fuzz/checks.ts';
import { describe, requestTo, type FuzzRequest, type FuzzWorld } from './fuzz/requests.ts';
import { fillPath, routeCollector, type RouteEntry } from './fuzz/route-table.ts';
import { encode } from './fuzz/values.ts';
import { signatureHeader, stripeEventBody, supplierEventBody, validlySigned } from './fuzz/webhook-bodies.ts';

const env = process.env;
const whole = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const RUNS = whole('FUZZ_RUNS', 60);
const SOCKET_RUNS = whole('FUZZ_SOCKET_RUNS', Math.max(1, Math.round(RUNS / 5)));
const REQUEST_MS = whole('FUZZ_REQUEST_MS', 5000);
const ONLY = env.FUZZ_ROUTE ? new RegExp(env.FUZZ_ROUTE) : undefined;
const IGNORE = env.FUZZ_IGNORE ? new RegExp(env.FUZZ_IGNORE) : undefined;
const fcOptions = {
  seed: env.FUZZ_SEED ? Number(env.FUZZ_SEED) : undefined,
  path: env.FUZZ_PATH || undefined,
  // Shrinking sends requests too: a route gets this long to find its smallest counterexample.
  interruptAfterTimeLimit: whole('FUZZ_ROUTE_MS', 30_000),
  markInterruptAsFailure: false,
};

const STRIPE_SECRET = 'whsec_fuzz_test_webhook_secret';
const SUPPLIER_SECRET = 'fuzz_test_supplier_webhook_secret';
const SESSION_SECRET = 'fuzz-tests-session-secret-0123456789abcdef';
const WEBHOOK_TOLERANCE_SECONDS = 300;

// The world: a database with stats, orders and a user; the payment sandbox; pg-boss; the app on them.
const database = await freshDatabase(t, { poolSize: 10 });
const { pool, db } = database;
const gateway = await startGatewaySandbox({ webhookSecret: STRIPE_SECRET });
t.teardown(() => gateway.close());
const config = loadConfig({
  STRIPE_API_BASE: gateway.url, STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, STRIPE_TIMEOUT_MS: '2000', SUPPLIER_WEBHOOK_SECRET: SUPPLIER_SECRET,
  SESSION_SECRET, PUBLIC_URL: APP_ORIGIN, LOGIN_ATTEMPTS_PER_MINUTE: '10000',
});
const boss = await startTestBoss(t, database.url);
const stripe = createStripeClient(config.stripe);
const collector = routeCollector();
const app = await build(config, { pool, db, log: testLog, boss, stripe, onRoute: collector.onRoute });
t.teardown(() => app.close());
/** The error behind the last 5xx (requests are sent one at a time), so a failure names its cause and where it was thrown. */
let lastError: string | undefined;
app.addHook('onError', async (_request, reply, error) => {
  if (reply.statusCode < 500 && (error as { statusCode?: number }).statusCode !== undefined && (error as { statusCode: number }).statusCode < 500) return;
  const where = /\/(src\/[^:)]+:\d+)/.exec(error.stack ?? '')?.[1];
  lastError = `${(error as { code?: string }).code ?? error.name}: ${error.message.slice(0, 200)}${where ? ` at ${where}` : ''}`;
});
await app.ready();

const fixture = await loadFixture(pool);
const orderIds = [
  await insertOrder(pool, { productId: fixture.products[0]! }),
  await insertOrder(pool, { productId: fixture.products[1]!, quantity: 3, paymentState: 'payment_failed' }),
  await insertOrder(pool, { productId: fixture.products[2]!, paymentState: 'paid' }),
];
const { rows: orders } = await pool.query<{ number: string; customer_email: string }>(`select number, customer_email from orders order by id`);
const user = await insertUser(pool, 'ann', await hashPassword(PASSWORD));
const access = orderAccess(SESSION_SECRET);

// A CSRF cookie and a token that goes with it, as the sign-in page hands them out.
const loginPage = await app.inject({ url: '/login' });
const csrfCookie = cookieHeader(loginPage);
const csrfToken = formToken(loginPage.body);

const routes = collector.table(app);
const webhookSecrets = new Map([['/webhooks/stripe', { header: 'stripe-signature', secret: STRIPE_SECRET, provider: 'stripe' }], ['/webhooks/supplier', { header: 'supplier-signature', secret: SUPPLIER_SECRET, provider: 'supplier' }]]);

/** What every accepted and refused webhook was, for the accounting after the run. */
const webhookLog: { provider: string; eventId: unknown; accepted: boolean; duplicate: boolean; refused: boolean }[] = [];
/** Problems that FUZZ_IGNORE let pass, reported at the end so they are not forgotten. */
const ignored = new Set<string>();

t.test('the route table is read from Fastify and covers the app', async (t) => {
  t.comment(`${routes.length} routes: ${routes.map((r) => `${r.method} ${r.url}`).join(', ')}`);
  for (const url of ['/', '/login', '/webhooks/stripe', '/webhooks/supplier', '/shop/checkout', '/ops/orders/:ref']) {
    t.ok(routes.some((r) => r.url === url), `${url} is in the table`);
  }
  const unsigned = routes.filter((r) => r.url.startsWith('/webhooks/') && !webhookSecrets.has(r.url));
  t.same(unsigned.map((r) => r.url), [], 'every webhook route has a signer here (a new one needs its secret and body generator)');
});

/**
 * Year 9999 in a child process with a small heap first: a handler that loops
 * over the days without end would take this process (and the machine's
 * memory) with it. The in-process fuzz reaches year 9999 only once this passes.
 */
let lastYear = 9999;
await t.test('the far end of the calendar answers, in a child process with a 384 MB heap', async (t) => {
  const token = await createSession(pool, user.id, 1);
  const ranges = ['from=9999-12-01&to=9999-12-31', 'from=9999-12-31', 'to=9999-12-31', 'from=9999-12-20&to=9999-12-31&view=pivot', 'from=9999-12-31&to=9999-12-31'];
  const urls = routes.filter((r) => r.method === 'GET' && !r.url.startsWith('/static/'))
    .flatMap((r) => ranges.map((range) => `${fillPath(r, r.params.map(() => '1'))}?${range}`));
  const outcome = await runProbe(urls, `${csrfCookie}; tanktop_session=${token}`);
  t.equal(outcome.hung, undefined, outcome.hung ? `GET ${outcome.hung} did not answer within 5 s (${outcome.how}); the fuzz below stays before year 9999` : 'every request answered');
  if (outcome.hung) lastYear = 9998;
});

async function runProbe(urls: string[], cookie: string): Promise<{ hung?: string; how?: string }> {
  const child = spawn(process.execPath, ['--max-old-space-size=384', path.join(import.meta.dirname, 'fuzz/calendar-probe.ts')], {
    env: { ...env, FUZZ_PROBE_URLS: JSON.stringify(urls), FUZZ_PROBE_DB_URL: database.url, FUZZ_PROBE_COOKIE: cookie, FUZZ_PROBE_SESSION_SECRET: SESSION_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let started: number | undefined;
  let finished = -1;
  let stderr = '';
  // Stopped after 5 s without progress (a request that has not answered), and the whole probe after a minute.
  let silence = setTimeout(() => child.kill('SIGKILL'), 5000);
  child.stdout.on('data', (chunk: Buffer) => {
    clearTimeout(silence);
    silence = setTimeout(() => child.kill('SIGKILL'), 5000);
    for (const line of chunk.toString().split('\n')) {
      const [word, index] = line.split(' ');
      if (word === 'start') started = Number(index);
      if (word === 'done') finished = Number(index);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-2000); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  clearTimeout(silence);
  if (code === 0) return {};
  const hung = started !== undefined && started > finished ? urls[started] : `(before the first request: ${stderr.trim().slice(-300)})`;
  return { hung, how: signal ? `stopped with ${signal}` : /heap/i.test(stderr) ? 'ran out of heap' : `exited ${code}: ${stderr.trim().slice(-300)}` };
}

const world: FuzzWorld = {
  lastYear: 9999,
  entityIds: [...fixture.agents, ...fixture.products, ...fixture.customers],
  orderIds,
  orderNumbers: orders.map((o) => o.number),
  productIds: fixture.products,
  invoiceIds: ['1'],
  emails: orders.map((o) => o.customer_email),
  queues: allQueues.map((q) => q.name),
  flashes: Object.keys(FLASHES),
  sortKeys: [...sortKeys],
  paymentStates: [...PAYMENT_STATES],
  fulfilmentStates: [...FULFILMENT_STATES],
  keyOf: access.keyOf,
  user: { name: 'ann', password: PASSWORD },
  webhooks: new Map(),
};

/** The request as inject options: cookies, the CSRF token where asked, the body, a signature made now. */
async function injectOptions(request: FuzzRequest): Promise<InjectOptions> {
  const cookies = [request.csrf === 'missing' ? '' : csrfCookie];
  if (request.signedIn) cookies.push(`tanktop_session=${await createSession(pool, user.id, 1)}`);
  const headers: Record<string, string> = { cookie: cookies.filter(Boolean).join('; ') };
  if (request.accept) headers.accept = request.accept;
  const token = request.csrf === 'valid' ? csrfToken : request.csrf === 'bogus' ? 'bogus-token' : undefined;
  let payload: string | Buffer | undefined;
  const body = request.body;
  if (body?.kind === 'form') {
    const pairs: [string, string][] = token === undefined ? body.pairs : [...body.pairs, ['_csrf', token]];
    payload = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (body?.kind === 'json') {
    payload = JSON.stringify(token === undefined ? body.value : { ...body.value, _csrf: token });
    headers['content-type'] = 'application/json';
  } else if (body?.kind === 'raw') {
    payload = body.payload;
    if (body.contentType !== undefined) headers['content-type'] = body.contentType;
  }
  const signer = webhookSecrets.get(request.route.url);
  if (signer && request.signature && payload !== undefined) {
    const header = signatureHeader(signer.secret, payload, request.signature.choice, request.signature.offsetSeconds);
    if (header !== undefined) headers[signer.header] = header;
  }
  return { method: request.method as InjectOptions['method'], url: request.url, headers, payload };
}

async function withinTimeBound<T>(work: Promise<T>): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), REQUEST_MS); });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The problems of one fuzzed request, minus those FUZZ_IGNORE matches. */
function keep(request: FuzzRequest, problems: string[]): string[] {
  const labelled = problems.map((problem) => `${request.method} ${request.route.url}: ${problem}`);
  return labelled.filter((problem) => {
    if (!IGNORE?.test(problem)) return true;
    ignored.add(problem.slice(0, 160));
    return false;
  });
}

/** The webhook's own properties: accepted only when validly signed within the window either side of now. */
function webhookProblems(request: FuzzRequest, seen: Seen, payload: string | Buffer | undefined): string[] {
  const signer = webhookSecrets.get(request.route.url);
  if (!signer || !request.signature) return [];
  const accepted = seen.statusCode >= 200 && seen.statusCode < 300;
  let eventId: unknown;
  try {
    eventId = (JSON.parse(String(payload)) as { id?: unknown }).id;
  } catch {
    eventId = undefined;
  }
  let duplicate = false;
  let refused = false;
  if (accepted) {
    try {
      const answer = JSON.parse(seen.body) as { duplicate?: boolean; refused?: string };
      duplicate = answer.duplicate === true;
      refused = typeof answer.refused === 'string'; // why, when stored as refused
    } catch {
      duplicate = false;
    }
  }
  webhookLog.push({ provider: signer.provider, eventId, accepted, duplicate, refused });
  const problems: string[] = [];
  const { choice, offsetSeconds } = request.signature;
  if (accepted && !validlySigned(choice)) problems.push(`accepted a body whose signature is ${choice}`);
  if (accepted && Math.abs(offsetSeconds) > WEBHOOK_TOLERANCE_SECONDS + 5) {
    problems.push(`accepted a signature ${offsetSeconds > 0 ? `${offsetSeconds} s in the future` : `${-offsetSeconds} s old`} (the window is ${WEBHOOK_TOLERANCE_SECONDS} s)`);
  }
  return problems;
}

async function fuzzOne(request: FuzzRequest): Promise<string[]> {
  const options = await injectOptions(request);
  lastError = undefined;
  let outcome;
  try {
    outcome = await withinTimeBound(app.inject(options));
  } catch (error) {
    return keep(request, [`the request failed without a response: ${(error as Error).message}`]);
  }
  if (outcome === 'timeout') return keep(request, [`no answer within ${REQUEST_MS} ms`]);
  const seen: Seen = { statusCode: outcome.statusCode, headers: outcome.headers, body: outcome.body };
  const problems = problemsWith(request.method, seen, [gateway.url]).map((problem) => (seen.statusCode >= 500 && /^answered/.test(problem) ? `${problem} (${lastError ?? 'no error seen'})` : problem));
  return keep(request, [...problems, ...webhookProblems(request, seen, options.payload as string | Buffer | undefined)]);
}

/** A route's verdict: its smallest counterexample, what was wrong with it, and how to replay it. */
function report(t: Test, route: RouteEntry, details: fc.RunDetails<[FuzzRequest]>, runs: number): void {
  if (!details.failed) {
    t.pass(`${details.numRuns} requests${details.interrupted ? ` (of ${runs}: out of time)` : ''}`);
    return;
  }
  const [request] = details.counterexample ?? [];
  const replay = `FUZZ_ROUTE='^${route.method} ${route.url.replace(/[.*]/g, '\\$&')}$' FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''}`;
  t.fail(`${(details.errorInstance as Error | undefined)?.message ?? 'failed'}\n  request: ${request ? describe(request) : '?'}\n  after ${details.numRuns} requests, shrunk ${details.numShrinks} times; replay: ${replay}`);
}

/** Memory after a full collection, so garbage not yet collected is not taken for growth. */
const forceGc = (() => {
  v8.setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();
function settledMemory(): NodeJS.MemoryUsage {
  forceGc();
  return process.memoryUsage();
}

const memoryBefore = settledMemory();
const fuzzStarted = Date.now();
const selected = routes.filter((route) => !ONLY || ONLY.test(`${route.method} ${route.url}`));

await t.test('every route answers every request with a 2xx, 3xx or 4xx with a sentence, in time, never redirecting off the site', async (t) => {
  world.lastYear = lastYear;
  world.webhooks = new Map([
    ['/webhooks/stripe', stripeEventBody(orderIds)],
    ['/webhooks/supplier', supplierEventBody(world.orderNumbers, world.lastYear)],
  ]);
  if (world.lastYear < 9999) t.comment('year 9999 is left out of the dates: the calendar probe found a request there that does not answer');
  for (const route of selected) {
    await t.test(`${route.method} ${route.url}`, async (t) => {
      const details = await fc.check(fc.asyncProperty(requestTo(route, world), async (request) => {
        const problems = await fuzzOne(request);
        if (problems.length) throw new Error(problems.join('\n'));
      }), { ...fcOptions, numRuns: RUNS });
      report(t, route, details, RUNS);
    });
  }
});
const fuzzSeconds = (Date.now() - fuzzStarted) / 1000;

/**
 * A signed event is acknowledged either way: well-formed, stored with one job;
 * malformed (it can never be applied), stored as refused with none, so no job
 * retries it. An unsigned or stale one is not stored at all.
 */
t.test('every webhook accepted is stored once, with one job unless refused as malformed, and nothing unsigned is stored', { skip: ONLY && !selected.some((r) => r.url.startsWith('/webhooks/')) }, async (t) => {
  for (const [url, { provider }] of webhookSecrets) {
    const queue = provider === 'stripe' ? Queues.processStripeEvent : SupplierQueues.processEvent;
    const { rows } = await pool.query<{ id: string; event_id: string; refused: boolean; jobs: string }>(
      `select e.id::text, e.event_id, e.refused_reason is not null as refused,
              (select count(*) from pgboss.job j where j.name = $2 and j.data->>'webhookEventId' = e.id::text) as jobs
       from webhook_events e where e.provider = $1`, [provider, queue]);
    const firstTimes = webhookLog.filter((w) => w.provider === provider && w.accepted && !w.duplicate);
    t.equal(rows.length, firstTimes.length, `${url}: one stored event per first acceptance (${firstTimes.length})`);
    t.equal(rows.filter((r) => r.refused).length, firstTimes.filter((w) => w.refused).length, `${url}: one refused row per first acceptance answered as refused`);
    t.same(rows.filter((r) => r.jobs !== (r.refused ? '0' : '1')).map((r) => `${r.event_id}${r.refused ? ' (refused)' : ''}: ${r.jobs} jobs`), [],
      `${url}: each stored event has one job, a refused one none`);
    const acceptedIds = new Set(webhookLog.filter((w) => w.provider === provider && w.accepted).map((w) => String(w.eventId)));
    const storedIds = new Set(rows.map((r) => r.event_id));
    const unsignedButStored = webhookLog.filter((w) => w.provider === provider && !w.accepted && typeof w.eventId === 'string' && !acceptedIds.has(w.eventId) && storedIds.has(w.eventId));
    t.same(unsignedButStored.map((w) => w.eventId), [], `${url}: no event turned away (bad signature, stale) was stored`);
  }
});

t.test('the jobs of the accepted webhooks complete (none fails on the shape of what was signed)', async (t) => {
  const handlers = [
    { queue: Queues.processStripeEvent, handle: processStripeEventJob({ db, boss, stripe, config }) },
    { queue: SupplierQueues.processEvent, handle: processSupplierEventJob({ db, boss, config, log: testLog }) },
  ];
  const failures = new Map<string, string>();
  let worked = 0;
  for (const { queue, handle } of handlers) {
    for (;;) {
      const jobs = await boss.fetch<{ webhookEventId: string }>(queue, { batchSize: 50 });
      if (jobs.length === 0) break;
      for (const job of jobs) {
        worked++;
        try {
          const result = await withinTimeBound(handle(job.data, { jobId: job.id, queue, retryCount: 0, log: testLog }));
          if (result === 'timeout') throw new Error(`the job did not finish within ${REQUEST_MS} ms`);
          await boss.complete(queue, job.id);
        } catch (error) {
          await boss.fail(queue, job.id, failureOutput(error));
          const { rows } = await pool.query<{ payload: unknown }>(`select payload from webhook_events where id = $1`, [job.data.webhookEventId]);
          const where = /\/(src\/[^:)]+:\d+)/.exec((error as Error).stack ?? '')?.[1];
          const why = `${queue}: ${(error as Error).message}${where ? ` at ${where}` : ''}`;
          if (!failures.has(why)) failures.set(why, JSON.stringify(rows[0]?.payload).slice(0, 400));
        }
      }
    }
  }
  t.comment(`${worked} webhook jobs worked`);
  t.same([...failures].map(([why, payload]) => `${why} (payload ${payload})`), [], 'no job failed');
  const { rows } = await pool.query<{ state: string; n: string }>(
    `select state, count(*) as n from pgboss.job where name = any($1) and state in ('failed', 'retry') group by state`, [[Queues.processStripeEvent, SupplierQueues.processEvent]]);
  t.same(rows, [], 'no webhook job is failed or waiting for a retry in pg-boss');
});

t.test('GET routes over a real socket: every response arrives whole', async (t) => {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  for (const route of selected.filter((r) => r.method === 'GET')) {
    await t.test(`GET ${route.url}`, async (t) => {
      const details = await fc.check(fc.asyncProperty(requestTo(route, world), async (request) => {
        const options = await injectOptions(request);
        const outcome = await withinTimeBound(overSocket(port, request.url, options.headers as Record<string, string>));
        const problems = outcome === 'timeout' ? [`no answer within ${REQUEST_MS} ms`]
          : 'broken' in outcome ? [`the response broke off: ${outcome.broken}`]
          : problemsWith('GET', outcome, [gateway.url]);
        const kept = keep(request, problems.map((p) => `over a socket, ${p}`));
        if (kept.length) throw new Error(kept.join('\n'));
      }), { ...fcOptions, numRuns: SOCKET_RUNS });
      report(t, route, details, SOCKET_RUNS);
    });
  }
});

/** A GET over its own connection; `broken` when the response did not arrive whole (reset, aborted, short of its length). */
function overSocket(port: number, url: string, headers: Record<string, string>): Promise<Seen | { broken: string }> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: url, headers: { ...headers, connection: 'close' }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => resolve({ broken: `${response.statusCode} then ${error.message} after ${Buffer.concat(chunks).length} bytes` }));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const length = response.headers['content-length'];
        if (!response.complete) resolve({ broken: `${response.statusCode}, ended after ${body.length} bytes without its end` });
        else if (length !== undefined && Number(length) !== body.length) resolve({ broken: `${response.statusCode}, ${body.length} of ${length} bytes` });
        else resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: body.toString('utf8') });
      });
    });
    request.on('error', (error) => resolve({ broken: error.message }));
  });
}

t.test('the process is alive and stayed small', async (t) => {
  const after = settledMemory();
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  t.comment(`fuzzing ${selected.length} routes × ${RUNS} runs took ${fuzzSeconds.toFixed(1)} s; heap ${mb(memoryBefore.heapUsed)} → ${mb(after.heapUsed)} MB, rss ${mb(memoryBefore.rss)} → ${mb(after.rss)} MB`);
  t.ok(after.heapUsed - memoryBefore.heapUsed < 96 * 1024 * 1024, 'the heap (after a full collection) grew by less than 96 MB');
  t.ok(after.rss - memoryBefore.rss < 768 * 1024 * 1024, 'the resident set grew by less than 768 MB');
  const health = await app.inject({ url: '/healthz' });
  t.equal(health.statusCode, 200, 'and still answers /healthz');
  if (ignored.size) t.comment(`FUZZ_IGNORE let these pass:\n${[...ignored].join('\n')}`);
});
