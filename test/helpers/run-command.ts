import { spawn } from 'node:child_process';
import path from 'node:path';

const projectRoot = path.resolve(import.meta.dirname, '../..');

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one of our CLIs (src/cli/NAME.ts) as its own process, as a person would. */
export function runCli(name: string, args: string[], env: Record<string, string | undefined>): Promise<CommandResult> {
  return runProcess(process.execPath, [path.join(projectRoot, 'src/cli', `${name}.ts`), ...args], { env: { LOG_LEVEL: '', ...env } });
}

/**
 * Runs a program to its end and collects what it printed; `env` goes over
 * this process's environment. Killed after `timeoutMs`, so a hung command
 * fails its test instead of stalling the run.
 */
export function runProcess(file: string, args: string[], { cwd = projectRoot, env = {}, timeoutMs = 120_000 }: {
  cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number;
} = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
