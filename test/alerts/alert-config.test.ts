import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';

t.test('alert settings default to the alert sandbox, a 60-minute window, 20 a minute and 5 s', async (t) => {
  t.same(loadConfig({}).alerts, { webhookUrl: 'http://127.0.0.1:8026/hooks/tanktop', renotifyMinutes: 60, maxPerMinute: 20, timeoutMs: 5000 });
  t.same(loadConfig({
    ALERT_WEBHOOK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX', ALERT_RENOTIFY_MINUTES: '15', ALERT_MAX_PER_MINUTE: '5', ALERT_TIMEOUT_MS: '2000',
  }).alerts, { webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXX', renotifyMinutes: 15, maxPerMinute: 5, timeoutMs: 2000 });
});

t.test('a bad alert setting is refused by name; a bad webhook URL is not repeated (it is a secret)', async (t) => {
  t.throws(() => loadConfig({ ALERT_WEBHOOK_URL: 'hooks.slack.com/services/T000/SECRET' }), new ConfigError('ALERT_WEBHOOK_URL is not a valid URL (expected https://hooks.slack.com/services/…)'));
  t.throws(() => loadConfig({ ALERT_WEBHOOK_URL: 'ftp://example.com/SECRET' }), new ConfigError('ALERT_WEBHOOK_URL must be an http:// or https:// URL, not ftp://…'));
  t.throws(() => loadConfig({ ALERT_RENOTIFY_MINUTES: '0' }), { message: 'ALERT_RENOTIFY_MINUTES must be a whole number from 1 to 10080, not "0"' });
  t.throws(() => loadConfig({ ALERT_MAX_PER_MINUTE: 'lots' }), { message: 'ALERT_MAX_PER_MINUTE must be a whole number from 1 to 1000, not "lots"' });
  t.throws(() => loadConfig({ ALERT_TIMEOUT_MS: '60000' }), { message: 'ALERT_TIMEOUT_MS must be a whole number from 500 to 30000, not "60000"' });
});
