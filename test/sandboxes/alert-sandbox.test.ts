import t, { type Test } from 'tap';
import { planAlertSandbox, startDevSandboxes } from '../../src/dev-sandboxes.ts';
import { startAlertSandbox, type AlertSandbox } from '../../src/sandboxes/alerts/alert-sandbox.ts';
import { testLog } from '../helpers/database.ts';
import { finished, startSandboxCli } from '../helpers/sandbox-cli.ts';

async function sandboxFor(t: Test): Promise<AlertSandbox> {
  const sandbox = await startAlertSandbox({ log: testLog });
  t.teardown(() => sandbox.close());
  return sandbox;
}

function post(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
}

async function json<T = unknown>(url: string): Promise<T> {
  return (await fetch(url)).json() as Promise<T>;
}

const slack = { text: ':warning: Warning: disk', blocks: [{ type: 'header', text: { type: 'plain_text', text: ':warning: disk' } }] };

t.test('a Slack-format post is answered "ok" as text and listed by the JSON API, newest first; DELETE empties the list', async (t) => {
  const sandbox = await sandboxFor(t);
  t.match(sandbox.url, /^http:\/\/127\.0\.0\.1:\d+\/hooks\/tanktop$/);
  t.equal(sandbox.pageUrl, `${new URL(sandbox.url).origin}/`);
  const response = await post(sandbox.url, slack);
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /^text\/plain/);
  t.equal(await response.text(), 'ok');
  t.equal((await post(`${new URL(sandbox.url).origin}/hooks/other`, { text: 'second' })).status, 200);
  const base = new URL(sandbox.url).origin;
  t.match(await json(`${base}/api/messages`), [
    { id: '2', hook: 'other', text: 'second', blocks: [], payload: { text: 'second' } },
    { id: '1', hook: 'tanktop', text: slack.text, blocks: slack.blocks, payload: slack },
  ]);
  t.equal((await fetch(`${base}/api/messages`, { method: 'DELETE' })).status, 204);
  t.same(await json(`${base}/api/messages`), []);
  await post(sandbox.url, { text: 'third' });
  t.match(await json(`${base}/api/messages`), [{ id: '3' }], 'ids are never reused');
});

t.test('a body Slack would refuse is a 400 with its word, and is not recorded', async (t) => {
  const sandbox = await sandboxFor(t);
  const bad = await post(sandbox.url, '{"text": ');
  t.equal(bad.status, 400);
  t.equal(await bad.text(), 'invalid_payload');
  const empty = await post(sandbox.url, { blocks: [] });
  t.equal(empty.status, 400);
  t.equal(await empty.text(), 'no_text');
  t.equal((await post(sandbox.url, [1, 2])).status, 400);
  t.same(await json(`${new URL(sandbox.url).origin}/api/messages`), []);
});

t.test('faults: down answers 503 until cleared, failNext answers 500 that many times, slowMs answers late', async (t) => {
  const sandbox = await sandboxFor(t);
  const base = new URL(sandbox.url).origin;
  const faults = (body: unknown) => post(`${base}/_sandbox/faults`, body);

  t.same(await (await faults({ down: true })).json(), { down: true, failNext: 0, slowMs: 0 });
  const down = await post(sandbox.url, slack);
  t.equal(down.status, 503);
  t.equal(await down.text(), 'service_unavailable');
  t.equal((await post(sandbox.url, slack)).status, 503, 'still down');
  await faults({ down: false, failNext: 2 });
  t.same([(await post(sandbox.url, slack)).status, (await post(sandbox.url, slack)).status, (await post(sandbox.url, slack)).status], [500, 500, 200]);
  t.same(await json(`${base}/_sandbox/faults`), { down: false, failNext: 0, slowMs: 0 });

  await faults({ slowMs: 400 });
  const started = performance.now();
  t.equal((await post(sandbox.url, slack)).status, 200);
  t.ok(performance.now() - started >= 390, 'the answer came late');
  await t.rejects(post(sandbox.url, { text: 'gave up' }, { signal: AbortSignal.timeout(100) }), { name: 'TimeoutError' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal((await json<unknown[]>(`${base}/api/messages`)).length, 2, 'a post whose sender stopped waiting is not recorded');

  t.equal((await faults({ sideways: true })).status, 400, 'an unknown fault is refused');
  t.equal((await faults({ failNext: -1 })).status, 400);
  t.same(await (await fetch(`${base}/_sandbox/faults`, { method: 'DELETE' })).json(), { down: false, failNext: 0, slowMs: 0 });
});

t.test('closing the sandbox does not wait for a slow answer', async (t) => {
  const sandbox = await startAlertSandbox({ log: testLog });
  await post(`${new URL(sandbox.url).origin}/_sandbox/faults`, { slowMs: 60_000 });
  const waiting = post(sandbox.url, slack).then((response) => response.status, () => 'dropped');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = performance.now();
  await sandbox.close();
  t.ok(performance.now() - started < 5000, 'closed promptly');
  t.match(await waiting, /^(503|dropped)$/);
});

t.test('the page lists what was posted with every part escaped', async (t) => {
  const sandbox = await sandboxFor(t);
  await post(sandbox.url, {
    text: 'fallback <script>alert(1)</script> &amp; more',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: ':rotating_light: <img src=x onerror=alert(1)>' } },
      { type: 'section', text: { type: 'mrkdwn', text: 'body &lt;b&gt;bold&lt;/b&gt; "quoted"' } },
      { type: 'section', fields: [{ type: 'mrkdwn', text: '*Order*\nTT-AB12-CD34 (id 42)' }] },
    ],
  });
  const page = await fetch(sandbox.pageUrl);
  t.equal(page.status, 200);
  t.match(page.headers.get('content-type'), 'text/html');
  t.match(page.headers.get('content-security-policy'), "default-src 'none'");
  const html = await page.text();
  t.notMatch(html, '<script');
  t.notMatch(html, '<img');
  t.notMatch(html, '<b>');
  t.match(html, '<h2>:rotating_light: &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;</h2>');
  t.match(html, '<li>body &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot;</li>', 'Slack\'s escapes decoded, then escaped for HTML');
  t.match(html, '<li>*Order*: TT-AB12-CD34 (id 42)</li>');
  t.match(html, 'Notification text: fallback &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
  t.match(html, '1 message(s)');
});

t.test('make start starts the alert sandbox when ALERT_WEBHOOK_URL is unset and hands its webhook to the service and the worker', async (t) => {
  t.same(planAlertSandbox({}), { host: '127.0.0.1', port: 8026, portFromEnv: false });
  t.same(planAlertSandbox({ ALERT_SANDBOX_PORT: '9000', ALERT_SANDBOX_HOST: '::1' }), { host: '::1', port: 9000, portFromEnv: true });
  t.equal(planAlertSandbox({ ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X' }), null, 'a configured webhook is used as it is');
  t.equal(planAlertSandbox({ DEV_SANDBOXES: 'off' }), null);
  t.throws(() => planAlertSandbox({ ALERT_SANDBOX_PORT: 'x' }), { message: 'ALERT_SANDBOX_PORT must be a whole number from 0 to 65535, not "x"' });

  const sandboxes = await startDevSandboxes({ STRIPE_API_BASE: 'http://127.0.0.1:9', SMTP_URL: 'smtp://127.0.0.1:9', SUPPLIER_API_URL: 'http://127.0.0.1:9/v1', ALERT_SANDBOX_PORT: '0' }, testLog);
  t.teardown(() => sandboxes.close());
  t.equal(sandboxes.gatewayUrl, undefined);
  t.equal(sandboxes.mail, undefined);
  t.ok(sandboxes.alerts);
  t.same(sandboxes.env, { ALERT_WEBHOOK_URL: sandboxes.alerts!.url });
  t.equal((await post(sandboxes.env.ALERT_WEBHOOK_URL!, { text: 'hello' })).status, 200);

  const none = await startDevSandboxes({ STRIPE_API_BASE: 'http://127.0.0.1:9', SMTP_URL: 'smtp://127.0.0.1:9', SUPPLIER_API_URL: 'http://127.0.0.1:9/v1', ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/X' }, testLog);
  t.equal(none.alerts, undefined);
  t.same(none.env, {});
  await none.close();
});

const start = (args: string[], env: Record<string, string> = {}) => startSandboxCli('alerts', args, env);

t.test('npm run sandbox:alerts: --help exits 0, a bad port is a usage (2) or configuration (3) error, and SIGTERM stops it cleanly', async (t) => {
  const help = await finished(start(['--help']));
  t.equal(help.code, 0);
  t.match(help.stdout, 'Usage: npm run sandbox:alerts');
  t.match(help.stdout, 'ALERT_SANDBOX_PORT, default 8026');
  const badFlag = await finished(start(['--port', 'many']));
  t.equal(badFlag.code, 2);
  t.match(badFlag.stderr, '--port must be a whole number from 0 to 65535, not "many"');
  const badEnv = await finished(start([], { ALERT_SANDBOX_PORT: '70000' }));
  t.equal(badEnv.code, 3);
  t.match(badEnv.stderr, 'ALERT_SANDBOX_PORT must be a whole number from 0 to 65535, not "70000"');

  const child = start(['--port', '0']);
  const done = finished(child);
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk;
      const match = /webhook at (http:\/\/\S+),/.exec(seen);
      if (match) resolve(match[1]!);
    });
    child.on('close', () => reject(new Error(`the sandbox stopped before listening: ${seen}`)));
  });
  t.equal(await (await post(url, { text: 'from the test' })).text(), 'ok');
  child.kill('SIGTERM');
  t.equal((await done).code, 0);
});
