import { ExitCode, CommandError, parseCommandLine, runCommand, UsageError } from '../../cli/cli.ts';
import { ConfigError } from '../../config.ts';
import { createLogger } from '../../logger.ts';
import { SUBSCRIBED_EVENT_TYPES } from '../../orders/stripe-events.ts';
import { isEventType } from './event-types.ts';
import { startGatewaySandbox } from './gateway-sandbox.ts';
import { stopOnSignals } from '../../stop-on-signals.ts';

/**
 * `npm run sandbox:gateway`: the payment gateway sandbox on its own, for
 * `make start` and for trying the shop by hand. Ctrl-C (or SIGTERM) stops it.
 */
const DEV_WEBHOOK_SECRET = 'whsec_tanktop_dev_sandbox_secret';

const usage = `
Usage: npm run sandbox:gateway -- [--host HOST] [--port PORT] [--public-url URL] [--webhook-url URL] [--enabled-events LIST]

Serves a stand-in for Stripe: the API the shop calls (point the stripe package
at it with host/port/protocol 'http'), a hosted checkout page at /pay/<session>,
signed webhooks, and a control API under /_sandbox/. No real money moves.

Options (each overrides its environment variable):
  --host HOST          listen address (GATEWAY_SANDBOX_HOST, default 127.0.0.1)
  --port PORT          port, 0 for any free one (GATEWAY_SANDBOX_PORT, default 12111)
  --public-url URL     base URL browsers use for the hosted page (GATEWAY_SANDBOX_PUBLIC_URL,
                       default the listening URL)
  --webhook-url URL    where events are POSTed (GATEWAY_SANDBOX_WEBHOOK_URL,
                       default http://127.0.0.1:3000/webhooks/stripe)
  --enabled-events LIST  the event types the endpoint receives, comma-separated, * for all
                       (GATEWAY_SANDBOX_ENABLED_EVENTS, default those the shop subscribes to:
                       ${SUBSCRIBED_EVENT_TYPES.join(', ')})
  -h, --help           show this help

The webhook signing secret is STRIPE_WEBHOOK_SECRET (default ${DEV_WEBHOOK_SECRET}).
`;

await runCommand('sandbox:gateway', usage, async () => {
  const parsed = parseCommandLine(process.argv.slice(2), {
    host: { type: 'string' },
    port: { type: 'string' },
    'public-url': { type: 'string' },
    'webhook-url': { type: 'string' },
    'enabled-events': { type: 'string' },
  }, usage);
  if (!parsed) return ExitCode.ok;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument: ${parsed.positionals[0]}`);
  const env = process.env;
  const port = portFrom(parsed.values.port, env.GATEWAY_SANDBOX_PORT);
  const publicUrl = httpUrl(parsed.values['public-url'] ?? env.GATEWAY_SANDBOX_PUBLIC_URL, 'GATEWAY_SANDBOX_PUBLIC_URL');
  const webhookUrl = httpUrl(parsed.values['webhook-url'] ?? env.GATEWAY_SANDBOX_WEBHOOK_URL, 'GATEWAY_SANDBOX_WEBHOOK_URL') ?? 'http://127.0.0.1:3000/webhooks/stripe';
  const enabledEvents = eventTypes(parsed.values['enabled-events'], env.GATEWAY_SANDBOX_ENABLED_EVENTS);
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET || DEV_WEBHOOK_SECRET;
  if (!webhookSecret.startsWith('whsec_')) throw new ConfigError('STRIPE_WEBHOOK_SECRET must be a webhook signing secret starting with whsec_');
  const log = createLogger(env.LOG_LEVEL || 'info', 'gateway-sandbox');

  let sandbox;
  try {
    sandbox = await startGatewaySandbox({ host: parsed.values.host ?? env.GATEWAY_SANDBOX_HOST ?? '127.0.0.1', port, publicUrl, webhookUrl, webhookSecret, enabledEvents, log });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CommandError(`port ${port} is already in use; set GATEWAY_SANDBOX_PORT or --port to a free one`);
    throw error;
  }
  process.stdout.write(`Payment sandbox (no real money) at ${sandbox.url}; webhooks to ${webhookUrl}. Ctrl-C stops it.\n`);

  // A hung close (a receiver that never answers) still ends.
  stopOnSignals(log, () => sandbox.close(), 10_000);
  return undefined;
});

function eventTypes(flag: string | undefined, env: string | undefined): readonly string[] {
  const raw = flag ?? env;
  if (raw === undefined || raw.trim() === '') return SUBSCRIBED_EVENT_TYPES;
  const types = raw.split(',').map((type) => type.trim());
  const bad = types.find((type) => !isEventType(type));
  if (bad === undefined) return types;
  const message = `takes event types such as checkout.session.completed, comma-separated, or *; "${bad}" is not one`;
  if (flag !== undefined) throw new UsageError(`--enabled-events ${message}`);
  throw new ConfigError(`GATEWAY_SANDBOX_ENABLED_EVENTS ${message}`);
}

function portFrom(flag: string | undefined, env: string | undefined): number {
  const raw = flag ?? env;
  if (raw === undefined || raw === '') return 12111;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    const message = `must be a whole number from 0 to 65535, not "${raw}"`;
    if (flag !== undefined) throw new UsageError(`--port ${message}`);
    throw new ConfigError(`GATEWAY_SANDBOX_PORT ${message}`);
  }
  return port;
}

function httpUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // the sentence below says it
  }
  throw new ConfigError(`${name} must be an http(s) URL, not "${value}"`);
}
