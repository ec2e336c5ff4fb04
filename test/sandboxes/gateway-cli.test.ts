import t from 'tap';
import { finished, startSandboxCli } from '../helpers/sandbox-cli.ts';

const start = (args: string[], env: Record<string, string> = {}) => startSandboxCli('gateway', args, env);

t.test('--help prints the usage and exits 0; a bad port is a usage error (2) or a configuration error (3)', async (t) => {
  const help = await finished(start(['--help']));
  t.equal(help.code, 0);
  t.match(help.stdout, 'Usage: npm run sandbox:gateway');
  const badFlag = await finished(start(['--port', 'many']));
  t.equal(badFlag.code, 2);
  t.match(badFlag.stderr, '--port must be a whole number');
  const badEnv = await finished(start([], { GATEWAY_SANDBOX_PORT: '70000' }));
  t.equal(badEnv.code, 3);
  t.match(badEnv.stderr, 'GATEWAY_SANDBOX_PORT must be a whole number from 0 to 65535, not "70000"');
  const badEvents = await finished(start(['--enabled-events', 'checkout.session.completed,Paid!']));
  t.equal(badEvents.code, 2);
  t.match(badEvents.stderr, '--enabled-events takes event types such as checkout.session.completed, comma-separated, or *; "Paid!" is not one');
  const badEventsEnv = await finished(start([], { GATEWAY_SANDBOX_ENABLED_EVENTS: 'everything' }));
  t.equal(badEventsEnv.code, 3);
  t.match(badEventsEnv.stderr, 'GATEWAY_SANDBOX_ENABLED_EVENTS takes event types');
});

t.test('the sandbox serves with the webhook URL from the environment and stops cleanly on SIGTERM', async (t) => {
  const child = start(['--port', '0'], { GATEWAY_SANDBOX_WEBHOOK_URL: 'http://127.0.0.1:3999/hooks' });
  const done = finished(child);
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk;
      const match = /at (http:\/\/[0-9.]+:\d+)/.exec(seen);
      if (match) resolve(match[1] as string);
    });
    child.on('close', () => reject(new Error(`the sandbox stopped before listening: ${seen}`)));
  });
  const settings = await (await fetch(`${url}/_sandbox/config`)).json() as { webhookUrl: string; enabledEvents: string[] };
  t.equal(settings.webhookUrl, 'http://127.0.0.1:3999/hooks');
  t.ok(settings.enabledEvents.includes('checkout.session.completed') && !settings.enabledEvents.includes('payment_intent.succeeded'),
    'by default the endpoint receives the event types the shop subscribes to');
  child.kill('SIGTERM');
  const { code } = await done;
  t.equal(code, 0);
});
