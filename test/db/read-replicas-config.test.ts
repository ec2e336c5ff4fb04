import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createWalHistory, parseLsn } from '../../src/db/wal-history.ts';

t.test('DATABASE_READ_URL takes one or more comma-separated postgres:// URLs', async (t) => {
  t.same(loadConfig({}).readReplicas.urls, [], 'unset: no replicas');
  const config = loadConfig({ DATABASE_READ_URL: 'postgres://a@r1:5432/tanktop, postgresql://a@r2/tanktop,' });
  t.same(config.readReplicas.urls, ['postgres://a@r1:5432/tanktop', 'postgresql://a@r2/tanktop'], 'trimmed, empty parts dropped');
  t.same({ ...config.readReplicas, urls: undefined }, { urls: undefined, maxLagMs: 30_000, noticeLagMs: 5_000, checkIntervalMs: 1_000 }, 'the defaults');
});

t.test('a bad replica URL or lag setting is refused with a sentence naming it', async (t) => {
  t.throws(() => loadConfig({ DATABASE_READ_URL: 'postgres://a@r1/db,http://r2/db' }), new ConfigError("DATABASE_READ_URL's URL 2 must be a postgres:// URL, not http://…"));
  t.throws(() => loadConfig({ DATABASE_READ_URL: 'not a url' }), new ConfigError('DATABASE_READ_URL is not a valid URL (expected postgres://user:password@host:port/database)'));
  t.throws(() => loadConfig({ DATABASE_READ_MAX_LAG_MS: '-1' }), /DATABASE_READ_MAX_LAG_MS must be a whole number/);
  t.throws(() => loadConfig({ DATABASE_READ_MAX_LAG_MS: '1000', DATABASE_READ_NOTICE_LAG_MS: '2000' }), /DATABASE_READ_NOTICE_LAG_MS \(2000\) must not exceed DATABASE_READ_MAX_LAG_MS \(1000\)/);
  t.throws(() => loadConfig({ DATABASE_READ_CHECK_INTERVAL_MS: '10' }), /DATABASE_READ_CHECK_INTERVAL_MS must be a whole number from 50/);
});

t.test('WAL positions parse as Postgres prints them', async (t) => {
  t.equal(parseLsn('0/0'), 0n);
  t.equal(parseLsn('16/B374D848'), (0x16n << 32n) + 0xB374D848n);
  t.throws(() => parseLsn('16-B374'), /not a WAL position/);
});

t.test('lag is how long the primary has had WAL the replica lacks, whatever the time since the last transaction', async (t) => {
  const history = createWalHistory(10_000);
  t.notOk(history.known, 'nothing known before the first sample');
  history.record(100n, 0);
  // An idle primary for an hour: the position does not move, and a replica that has it is current.
  history.record(100n, 3_600_000);
  t.equal(history.lagMs(100n, 3_600_000), 0, 'a caught-up replica after an idle hour: no lag');
  t.equal(history.lagMs(99n, 3_600_000), 3_600_000, 'one that lacks WAL the primary has had for an hour: an hour');
  history.record(200n, 3_601_000);
  history.record(300n, 3_602_000);
  t.equal(history.lagMs(150n, 3_602_500), 1_500, 'the first sample past the replica\'s position dates the lag');
  t.equal(history.lagMs(300n, 3_602_500), 0);
  t.equal(history.lagMs(400n, 3_602_500), 0, 'ahead of every sample (the check raced a write): current');
});

t.test('old samples leave the window, but a replica behind all of them still counts as behind by at least the window', async (t) => {
  const history = createWalHistory(1_000);
  for (let i = 0; i <= 100; i++) history.record(BigInt(i + 1), i * 100);
  t.ok(history.lagMs(0n, 10_000) >= 1_000, `behind every sample kept: ${history.lagMs(0n, 10_000)} ms`);
  t.equal(history.lagMs(95n, 10_000), 10_000 - 9_500, 'inside the window: to the sample');
});
