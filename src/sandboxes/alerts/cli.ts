import { ConfigError } from '../../config.ts';
import { CommandError, UsageError, parseCommandLine, runCommand } from '../../cli/cli.ts';
import { createLogger } from '../../logger.ts';
import { stopOnSignals } from '../../stop-on-signals.ts';
import { startAlertSandbox, type AlertSandbox } from './alert-sandbox.ts';

const DEFAULT_PORT = 8026;

const usage = `
Usage: npm run sandbox:alerts -- [--host H] [--port N]

A stand-in for the team's chat channel: a Slack incoming webhook at
/hooks/tanktop that answers "ok" and keeps every message it is sent in memory
(the newest 500), a page to read them at /, JSON at /api/messages. Point the
worker at it with ALERT_WEBHOOK_URL=http://127.0.0.1:${DEFAULT_PORT}/hooks/tanktop
(the default). Ctrl-C stops it.

Options:
  --host H      listen address (default 127.0.0.1, or ALERT_SANDBOX_HOST)
  --port N      port (ALERT_SANDBOX_PORT, default ${DEFAULT_PORT}; 0: a free one)
  -h, --help    show this help

Faults: POST /_sandbox/faults {"down": true} answers 503 until {"down": false};
{"failNext": n} answers the next n posts with 500; {"slowMs": n} answers n ms
late. DELETE /_sandbox/faults clears them; DELETE /api/messages empties the list.
`;

await runCommand('sandbox:alerts', usage, async () => {
  const args = parseCommandLine(process.argv.slice(2), {
    host: { type: 'string' },
    port: { type: 'string' },
  }, usage);
  if (!args) return;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);

  const host = args.values.host ?? (process.env.ALERT_SANDBOX_HOST || '127.0.0.1');
  const port = portOf(args.values.port, '--port') ?? portOf(process.env.ALERT_SANDBOX_PORT, 'ALERT_SANDBOX_PORT', ConfigError) ?? DEFAULT_PORT;
  const log = createLogger(process.env.LOG_LEVEL || 'info', 'alert-sandbox');

  let sandbox: AlertSandbox;
  try {
    sandbox = await startAlertSandbox({ host, port, log });
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'EADDRINUSE') throw new CommandError(`port ${port} on ${host} is already in use; choose another with --port or ALERT_SANDBOX_PORT`);
    if (code === 'EADDRNOTAVAIL') throw new CommandError(`${host} is not an address of this machine`);
    throw error;
  }
  process.stdout.write(`Alert sandbox: webhook at ${sandbox.url}, messages at ${sandbox.pageUrl}  (Ctrl-C stops it)\n`);

  stopOnSignals(log, () => sandbox.close(), 10_000);
});

function portOf(raw: string | undefined, name: string, ErrorClass: new (message: string) => Error = UsageError): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65535) throw new ErrorClass(`${name} must be a whole number from 0 to 65535, not "${raw}"`);
  return value;
}
