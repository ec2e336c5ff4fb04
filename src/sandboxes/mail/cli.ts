import { ConfigError } from '../../config.ts';
import { CommandError, UsageError, parseCommandLine, runCommand } from '../../cli/cli.ts';
import { createLogger } from '../../logger.ts';
import { startMailSandbox, type MailSandbox } from './mail-sandbox.ts';
import { stopOnSignals } from '../../stop-on-signals.ts';

const usage = `
Usage: npm run sandbox:mail -- [--host H] [--smtp-port N] [--http-port N]

A local SMTP server that keeps every message it receives in memory (the newest
500), and a mailbox to read them: pages at /, JSON at /api/messages.
No TLS; AUTH is optional and any credentials are accepted. Ctrl-C stops it.

Options:
  --host H         listen address (default 127.0.0.1, or MAIL_SANDBOX_HOST)
  --smtp-port N    SMTP port (default 2525, or MAIL_SANDBOX_SMTP_PORT; 0: a free one)
  --http-port N    mailbox port (default 8025, or MAIL_SANDBOX_HTTP_PORT; 0: a free one)
  -h, --help       show this help

Faults: POST /_sandbox/faults {"rejectNext": n} refuses the next n messages with a
temporary 451. DELETE /api/messages empties the mailbox.
`;

await runCommand('sandbox:mail', usage, async () => {
  const args = parseCommandLine(process.argv.slice(2), {
    host: { type: 'string' },
    'smtp-port': { type: 'string' },
    'http-port': { type: 'string' },
  }, usage);
  if (!args) return;
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);

  const host = args.values.host ?? process.env.MAIL_SANDBOX_HOST ?? '127.0.0.1';
  const smtpPort = port(args.values['smtp-port'], '--smtp-port') ?? port(process.env.MAIL_SANDBOX_SMTP_PORT, 'MAIL_SANDBOX_SMTP_PORT', ConfigError) ?? 2525;
  const httpPort = port(args.values['http-port'], '--http-port') ?? port(process.env.MAIL_SANDBOX_HTTP_PORT, 'MAIL_SANDBOX_HTTP_PORT', ConfigError) ?? 8025;
  const log = createLogger(process.env.LOG_LEVEL || 'info', 'mail-sandbox');

  let sandbox: MailSandbox;
  try {
    sandbox = await startMailSandbox({ host, smtpPort, httpPort, log });
  } catch (error) {
    const { code, port: busy } = error as NodeJS.ErrnoException & { port?: number };
    if (code === 'EADDRINUSE') throw new CommandError(`${busy ? `port ${busy}` : 'a port'} on ${host} is already in use; choose others with --smtp-port and --http-port`);
    if (code === 'EADDRNOTAVAIL') throw new CommandError(`${host} is not an address of this machine`);
    throw error;
  }
  process.stdout.write(`Mail sandbox: SMTP at ${sandbox.smtpUrl}, mailbox at ${sandbox.httpUrl}  (Ctrl-C stops it)\n`);

  stopOnSignals(log, () => sandbox.close(), 10_000);
});

function port(raw: string | undefined, name: string, ErrorClass: new (message: string) => Error = UsageError): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ErrorClass(`${name} must be a whole number from 0 to 65535, not "${raw}"`);
  return value;
}
