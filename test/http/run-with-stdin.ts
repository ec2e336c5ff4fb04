import { spawn } from 'node:child_process';
import path from 'node:path';
import type { CommandResult } from '../helpers/run-command.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

/** Like runCli, with text piped to the command's stdin (closed when undefined). */
export function runCliWithStdin(name: string, args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot, 'src/cli', `${name}.ts`), ...args], {
      cwd: projectRoot, env: { ...process.env, LOG_LEVEL: '', ...env }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.stdin.end(stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
