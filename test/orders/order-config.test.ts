import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createStripeClient } from '../../src/orders/stripe-client.ts';

t.test('the order settings have development defaults that talk to no real gateway', async (t) => {
  const config = loadConfig({});
  t.match(config, {
    publicUrl: 'http://127.0.0.1:3000',
    stripe: { secretKey: 'sk_test_tanktop_sandbox', webhookSecret: 'whsec_tanktop_dev_sandbox_secret', apiBase: undefined, timeoutMs: 5000 },
    mail: { smtpUrl: 'smtp://127.0.0.1:2525' },
    orders: { checkoutTtlMinutes: 60, defaultSalesAgent: 'Web shop', currency: 'eur', reconcileAfterMinutes: 15, sellerName: 'Tanktop Ltd' },
  });
  t.same(config.orders.sellerAddress, ['1 Example Street', 'London EC1A 1AA', 'United Kingdom']);
  t.equal(loadConfig({ PUBLIC_URL: 'https://shop.example.com/' }).publicUrl, 'https://shop.example.com', 'no trailing slash');
});

t.test('a bad order setting is refused with a sentence naming it', async (t) => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ STRIPE_API_BASE: 'localhost:4242' }, /STRIPE_API_BASE/],
    [{ STRIPE_API_BASE: 'ftp://x' }, /STRIPE_API_BASE must be an http/],
    [{ STRIPE_SECRET_KEY: 'pk_test_123456789' }, /STRIPE_SECRET_KEY must start with sk_/],
    [{ STRIPE_WEBHOOK_SECRET: 'secret' }, /STRIPE_WEBHOOK_SECRET must start with whsec_/],
    [{ ORDER_CHECKOUT_TTL_MINUTES: '5' }, /ORDER_CHECKOUT_TTL_MINUTES must be a whole number from 30 to 1440/],
    [{ ORDER_CURRENCY: 'jpy' }, /ORDER_CURRENCY must be one of/],
    [{ WORKER_NICE: '20' }, /WORKER_NICE must be a whole number from 0 to 19/],
    [{ WORKER_NICE: '-5' }, /WORKER_NICE must be a whole number from 0 to 19/],
    [{ SMTP_URL: 'http://mail' }, /SMTP_URL must be an smtp/],
    [{ PUBLIC_URL: 'shop' }, /PUBLIC_URL is not a valid URL/],
    [{ DEFAULT_SALES_AGENT: '   ' }, /DEFAULT_SALES_AGENT must not be blank/],
  ];
  for (const [env, message] of bad) t.throws(() => loadConfig(env), { name: 'Error', message }, JSON.stringify(env));
  const error = (() => { try { loadConfig({ STRIPE_TIMEOUT_MS: '0' }); } catch (caught) { return caught; } })();
  t.ok(error instanceof ConfigError, 'a ConfigError: the CLIs print it as one sentence and exit 3');
});

t.test('STRIPE_API_BASE points the SDK at another host', async (t) => {
  const stripe = createStripeClient(loadConfig({ STRIPE_API_BASE: 'http://127.0.0.1:4242' }).stripe);
  const settings = (stripe as unknown as { _api: { host: string; port: string | number; protocol: string; maxNetworkRetries: number } })._api;
  t.match(settings, { host: '127.0.0.1', port: '4242', protocol: 'http', maxNetworkRetries: 2 });
});
