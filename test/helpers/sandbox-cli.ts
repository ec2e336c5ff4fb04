import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import type { CommandResult } from './run-command.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/** Starts a sandbox's CLI (src/sandboxes/NAME/cli.ts) as its own process, as `npm run sandbox:NAME` does. */
export function startSandboxCli(name: string, args: string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [path.join(projectRoot, 'src/sandboxes', name, 'cli.ts'), ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } });
}

/** Everything a child printed, and its exit code, once it has closed. */
export function finished(child: ChildProcessWithoutNullStreams): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
