import t from 'tap';
import { waitFor } from '../helpers/server-process.ts';
import { browser, processFleet, type WebProcess } from './process-fleet.ts';

/** src/server.ts: stopOnSignals(log, shutdown, WORKER_STOP_MS + 10_000), past which it exits 1. */
const SHUTDOWN_BUDGET_MS = 30_000;
const IN_FLIGHT = 5;

/** Requests to one process, one after another, until told to stop: every status, and every error. */
function keepAsking(web: WebProcess, paths: string[]) {
  let asking = true;
  const statuses: number[] = [];
  const errors: string[] = [];
  const done = (async () => {
    for (let i = 0; asking; i++) {
      try {
        const response = await fetch(`${web.url}${paths[i % paths.length]}`);
        await response.arrayBuffer();
        statuses.push(response.status);
      } catch (error) {
        errors.push(String((error as Error).cause ?? error));
      }
    }
  })();
  return { statuses, errors, async stop() { asking = false; await done; } };
}

t.test('SIGTERM to one of two web processes under load: its requests in flight complete, the other answers every request, it exits 0 within its budget', async (t) => {
  const fleet = await processFleet(t);
  const [a, b] = await Promise.all(['a', 'b'].map((name) => fleet.web(name)));
  const ann = browser();
  await ann.signIn(b!.url);
  const cookie = ann.cookies.header();

  const pages = ['/shop', '/healthz', '/shop', '/static/style.css'];
  const onA = keepAsking(a!, pages);
  const others = [b!, b!, b!].map((web) => keepAsking(web, pages));
  await waitFor('a few answers from every process', async () => onA.statuses.length > 5 && others.every((load) => load.statuses.length > 5));

  // Hold the sessions table: A's signed-in requests (A has never seen this session) wait in the database, in flight.
  const locker = await fleet.pool.connect();
  t.teardown(() => locker.release());
  await locker.query('begin');
  await locker.query('lock table user_sessions in access exclusive mode');
  const inFlight = Array.from({ length: IN_FLIGHT }, async () => {
    const response = await fetch(`${a!.url}/api/stats/agents`, { headers: { cookie } });
    return { status: response.status, body: await response.text() };
  });
  await waitFor(`${IN_FLIGHT} of A's requests waiting in the database`, async () => {
    const { rows } = await fleet.pool.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`, [a!.applicationName]);
    return rows[0]!.n === IN_FLIGHT;
  }, 10_000);

  // The load balancer takes A out of rotation, and A is told to stop.
  await onA.stop();
  const signalled = Date.now();
  a!.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  t.equal(a!.child.exitCode, null, 'A is still running a second later: it waits for the requests it holds');
  const late = await fetch(`${a!.url}/shop`).then((response) => response.status, () => 'refused');
  t.not(late, 200, `A takes no new request while it stops (${late})`);

  await locker.query('commit');
  const answers = await Promise.all(inFlight);
  t.same(answers.map((answer) => answer.status), Array(IN_FLIGHT).fill(200), 'every request in flight on A was answered, 200');
  t.ok(answers.every((answer) => answer.body.startsWith('{')), 'with its JSON');

  const exit = await a!.exited;
  const stoppedIn = Date.now() - signalled;
  t.match(exit, { code: 0 }, `A exited 0 (${a!.stderr().slice(-500)})`);
  t.ok(stoppedIn < SHUTDOWN_BUDGET_MS, `A stopped ${stoppedIn} ms after SIGTERM, within its ${SHUTDOWN_BUDGET_MS} ms budget`);

  // B goes on answering after A is gone.
  const servedBefore = others.reduce((n, load) => n + load.statuses.length, 0);
  await waitFor('more answers from B after A exited', async () => others.reduce((n, load) => n + load.statuses.length, 0) > servedBefore + 20);
  await Promise.all(others.map((load) => load.stop()));
  const statuses = others.flatMap((load) => load.statuses);
  t.same(others.flatMap((load) => load.errors), [], 'no request to B failed');
  t.same(statuses.filter((status) => status !== 200), [], `all ${statuses.length} requests to B answered 200 meanwhile`);

  b!.child.kill('SIGTERM');
  t.match(await b!.exited, { code: 0 }, 'B stops cleanly too');
});
