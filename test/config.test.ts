import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.ts';

t.test('connection and job-polling settings: defaults, the pooler\'s default, and bad values refused in a sentence', async (t) => {
  const direct = loadConfig({});
  t.equal(direct.databasePoolSize, 10);
  t.equal(direct.jobPollIntervalMs, 2000, 'directly connected, NOTIFY wakes the workers: polling is the fallback');
  t.equal(loadConfig({ DATABASE_POOLING: 'transaction' }).jobPollIntervalMs, 500, 'behind a transaction pooler polling is all there is: pg-boss\'s minimum');
  t.equal(loadConfig({ DATABASE_POOLING: 'transaction', JOB_POLL_INTERVAL_MS: '1500' }).jobPollIntervalMs, 1500, 'a value set wins');
  t.equal(loadConfig({ DATABASE_POOL_SIZE: '3' }).databasePoolSize, 3);
  for (const [env, message] of [
    [{ DATABASE_POOL_SIZE: '0' }, /DATABASE_POOL_SIZE must be a whole number from 1 to 1000, not "0"/],
    [{ DATABASE_POOL_SIZE: 'ten' }, /DATABASE_POOL_SIZE must be a whole number/],
    [{ JOB_POLL_INTERVAL_MS: '100' }, /JOB_POLL_INTERVAL_MS must be a whole number from 500 to 60000, not "100"/],
  ] as const) {
    t.throws(() => loadConfig(env), { constructor: ConfigError, message }, JSON.stringify(env));
  }
});
