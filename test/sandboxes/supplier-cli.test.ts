import t from 'tap';
import { finished, startSandboxCli } from '../helpers/sandbox-cli.ts';

const start = (args: string[], env: Record<string, string> = {}) => startSandboxCli('supplier', args, env);

t.test('--help prints the usage and exits 0; a bad port or speed is a usage error (2) or a configuration error (3)', async (t) => {
  const help = await finished(start(['--help']));
  t.equal(help.code, 0);
  t.match(help.stdout, 'Usage: npm run sandbox:supplier');
  t.match(help.stdout, 'SUPPLIER_SANDBOX_PORT, default 12112');
  const badFlag = await finished(start(['--port', 'many']));
  t.equal(badFlag.code, 2);
  t.match(badFlag.stderr, '--port must be a whole number');
  const badEnv = await finished(start([], { SUPPLIER_SANDBOX_PORT: '70000' }));
  t.equal(badEnv.code, 3);
  t.match(badEnv.stderr, 'SUPPLIER_SANDBOX_PORT must be a whole number from 0 to 65535, not "70000"');
  const badSpeed = await finished(start(['--port', '0'], { SUPPLIER_SANDBOX_SPEED: '0' }));
  t.equal(badSpeed.code, 3);
  t.match(badSpeed.stderr, 'SUPPLIER_SANDBOX_SPEED must be a number above 0, not "0"');
});

t.test('the sandbox serves with the token, webhook URL and speed from the environment and stops cleanly on SIGTERM', async (t) => {
  const child = start(['--port', '0', '--speed', '4'], { SUPPLIER_SANDBOX_WEBHOOK_URL: 'http://127.0.0.1:3999/hooks', SUPPLIER_API_TOKEN: 'cli-token' });
  const done = finished(child);
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk;
      const match = /at (http:\/\/[0-9.]+:\d+);/.exec(seen);
      if (match) resolve(match[1] as string);
    });
    child.on('close', () => reject(new Error(`the sandbox stopped before listening: ${seen}`)));
  });
  const settings = await (await fetch(`${url}/_sandbox/config`)).json() as { webhookUrl: string; speed: number };
  t.equal(settings.webhookUrl, 'http://127.0.0.1:3999/hooks');
  t.equal(settings.speed, 4);
  t.equal((await fetch(`${url}/v1/orders/@x`, { headers: { authorization: 'Bearer tanktop-dev-supplier-token' } })).status, 401, 'the default token is not the one set');
  t.equal((await fetch(`${url}/v1/orders/@x`, { headers: { authorization: 'Bearer cli-token' } })).status, 404);
  child.kill('SIGTERM');
  const { code } = await done;
  t.equal(code, 0);
});
