import { CommandError, ExitCode, parseCommandLine, runCommand, UsageError } from '../../cli/cli.ts';
import { ConfigError } from '../../config.ts';
import { createLogger } from '../../logger.ts';
import { startSupplierSandbox } from './supplier-sandbox.ts';

/**
 * `npm run sandbox:supplier`: the drop-shipping supplier sandbox on its own,
 * for trying the order workflow by hand. Ctrl-C (or SIGTERM) stops it.
 */
const DEFAULT_PORT = 12112;
const DEV_API_TOKEN = 'tanktop-dev-supplier-token';
const DEV_WEBHOOK_SECRET = 'supplier_dev_webhook_secret';
const DEFAULT_WEBHOOK_URL = 'http://127.0.0.1:3000/webhooks/supplier';

const usage = `
Usage: npm run sandbox:supplier -- [--host HOST] [--port PORT] [--webhook-url URL] [--speed N]

Serves a stand-in for our drop-shipping supplier (docs/supplier-api.md): the API
under /v1 (Authorization: Bearer <token>), orders that move from pending through
production and shipping to delivered on a clock, signed webhooks, a control API
under /_sandbox/ and a page of orders and webhooks at /. Nothing is made or shipped.

Options (each overrides its environment variable):
  --host HOST          listen address (SUPPLIER_SANDBOX_HOST, default 127.0.0.1)
  --port PORT          port, 0 for any free one (SUPPLIER_SANDBOX_PORT, default ${DEFAULT_PORT})
  --webhook-url URL    where webhooks are POSTed (SUPPLIER_SANDBOX_WEBHOOK_URL,
                       default ${DEFAULT_WEBHOOK_URL})
  --speed N            how much faster than real time orders progress (SUPPLIER_SANDBOX_SPEED,
                       default 1: production 2 s, shipping 5 s, delivery 10 s)
  -h, --help           show this help

The API token is SUPPLIER_API_TOKEN (default ${DEV_API_TOKEN}); webhooks are
signed with SUPPLIER_WEBHOOK_SECRET (default ${DEV_WEBHOOK_SECRET}).
`;

await runCommand('sandbox:supplier', usage, async () => {
  const parsed = parseCommandLine(process.argv.slice(2), {
    host: { type: 'string' },
    port: { type: 'string' },
    'webhook-url': { type: 'string' },
    speed: { type: 'string' },
  }, usage);
  if (!parsed) return ExitCode.ok;
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument: ${parsed.positionals[0]}`);
  const env = process.env;
  const port = portFrom(parsed.values.port, env.SUPPLIER_SANDBOX_PORT);
  const speed = speedFrom(parsed.values.speed, env.SUPPLIER_SANDBOX_SPEED);
  const webhookUrl = httpUrl(parsed.values['webhook-url'] ?? env.SUPPLIER_SANDBOX_WEBHOOK_URL, 'SUPPLIER_SANDBOX_WEBHOOK_URL') ?? DEFAULT_WEBHOOK_URL;
  const apiToken = env.SUPPLIER_API_TOKEN || DEV_API_TOKEN;
  if (/\s/.test(apiToken)) throw new ConfigError('SUPPLIER_API_TOKEN must not contain spaces');
  const webhookSecret = env.SUPPLIER_WEBHOOK_SECRET || DEV_WEBHOOK_SECRET;
  const log = createLogger(env.LOG_LEVEL || 'info', 'supplier-sandbox');

  let sandbox;
  try {
    sandbox = await startSupplierSandbox({ host: parsed.values.host ?? (env.SUPPLIER_SANDBOX_HOST || '127.0.0.1'), port, apiToken, webhookUrl, webhookSecret, clock: { speed }, log });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CommandError(`port ${port} is already in use; set SUPPLIER_SANDBOX_PORT or --port to a free one`);
    throw error;
  }
  process.stdout.write(`Supplier sandbox (nothing is made or shipped) at ${sandbox.url}; API at ${sandbox.url}/v1; webhooks to ${webhookUrl}. Ctrl-C stops it.\n`);

  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130);
      stopping = true;
      // A hung close (a receiver that never answers) still ends.
      setTimeout(() => process.exit(1), 10_000).unref();
      sandbox.close().then(() => process.exit(0), (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    });
  }
  return undefined;
});

function portFrom(flag: string | undefined, env: string | undefined): number {
  const raw = flag ?? env;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    const message = `must be a whole number from 0 to 65535, not "${raw}"`;
    if (flag !== undefined) throw new UsageError(`--port ${message}`);
    throw new ConfigError(`SUPPLIER_SANDBOX_PORT ${message}`);
  }
  return port;
}

function speedFrom(flag: string | undefined, env: string | undefined): number {
  const raw = flag ?? env;
  if (raw === undefined || raw === '') return 1;
  const speed = Number(raw);
  if (!Number.isFinite(speed) || speed <= 0) {
    const message = `must be a number above 0, not "${raw}"`;
    if (flag !== undefined) throw new UsageError(`--speed ${message}`);
    throw new ConfigError(`SUPPLIER_SANDBOX_SPEED ${message}`);
  }
  return speed;
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
