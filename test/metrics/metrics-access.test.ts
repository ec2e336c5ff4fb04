import t, { type Test } from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { build } from '../../src/http/app.ts';
import { freshDatabase, testLog } from '../helpers/database.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

async function appWith(t: Test, env: NodeJS.ProcessEnv) {
  const database = await freshDatabase(t);
  const app = await build(loadConfig(env), { pool: database.pool, db: database.db, log: testLog });
  t.teardown(() => app.close());
  return (options: { remoteAddress?: string; headers?: Record<string, string> } = {}) =>
    app.inject({ method: 'GET', url: '/metrics', remoteAddress: options.remoteAddress, headers: options.headers });
}

t.test('with METRICS_TOKEN set, the metrics need that bearer token from anywhere', async (t) => {
  const scrape = await appWith(t, { METRICS_TOKEN: TOKEN });
  const missing = await scrape();
  t.equal(missing.statusCode, 401, 'no header: 401, also from this machine');
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="metrics"');
  t.notMatch(missing.body, 'tanktop_orders');
  t.equal((await scrape({ headers: { authorization: `Bearer ${TOKEN}x` } })).statusCode, 401, 'a wrong token: 401');
  t.equal((await scrape({ headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } })).statusCode, 401, 'a prefix of it: 401');
  t.equal((await scrape({ headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } })).statusCode, 401, 'another scheme: 401');
  const allowed = await scrape({ remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(allowed.statusCode, 200, 'the right token from another machine: 200');
  t.match(allowed.body, /^tanktop_orders\{/m);
  t.equal((await scrape({ headers: { authorization: `bearer ${TOKEN}` } })).statusCode, 200, 'the scheme is case-insensitive');
});

t.test('without METRICS_TOKEN, only clients on this machine reach the metrics directly', async (t) => {
  const scrape = await appWith(t, {});
  t.equal((await scrape({ remoteAddress: '127.0.0.1' })).statusCode, 200);
  t.equal((await scrape({ remoteAddress: '::1' })).statusCode, 200);
  t.equal((await scrape({ remoteAddress: '::ffff:127.0.0.1' })).statusCode, 200);
  t.equal((await scrape({ remoteAddress: '10.1.2.3' })).statusCode, 403, 'another machine: 403');
  t.equal((await scrape({ remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 403, 'a token is no help when none is configured');
  t.equal((await scrape({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } })).statusCode, 403, 'through a proxy on this machine: 403');
  t.equal((await scrape({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-proto': 'https' } })).statusCode, 403, 'any forwarding header: 403');
});

t.test('behind a trusted proxy a forged X-Forwarded-For does not pass for a local client', async (t) => {
  const scrape = await appWith(t, { TRUST_PROXY: 'true' });
  const forged = await scrape({ remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.1' } });
  t.equal(forged.statusCode, 403);
  t.equal((await scrape({ remoteAddress: '127.0.0.1' })).statusCode, 200, 'a direct local scrape still works');
});

t.test('a METRICS_TOKEN too short or with spaces is refused at start, naming the variable', async (t) => {
  t.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be at least 16 characters/);
  t.ok(catchError(() => loadConfig({ METRICS_TOKEN: 'short' })) instanceof ConfigError, 'a configuration error (exit code 3)');
  t.throws(() => loadConfig({ METRICS_TOKEN: 'a token with spaces in it' }), /METRICS_TOKEN/);
  t.equal(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken, TOKEN);
  t.equal(loadConfig({}).metricsToken, undefined);
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
