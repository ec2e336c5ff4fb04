import { spawn } from 'node:child_process';
import path from 'node:path';

const projectRoot = path.resolve(import.meta.dirname, '../..');

export interface ServerRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts src/server.ts as `make start` does (PORT=0), waits for its start-up
 * block, runs `whileRunning` with its URL and what it printed so far, then
 * Ctrl-C (SIGINT) and waits for it to exit.
 */
export async function startAndStop(env: Record<string, string>, whileRunning: (url: string, stdout: string) => Promise<void>): Promise<ServerRun> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/server.ts')], {
    cwd: projectRoot, env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 60 s; stderr: ${stderr}`)), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      // The block ends with a blank line: wait for all of it (the setup link is its last line).
      const match = /Tanktop is running at (http:\/\/\S+)[\s\S]*\n\n/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`)));
  });
  try {
    await whileRunning(url, stdout);
  } finally {
    child.kill('SIGINT');
  }
  const code = await exited;
  return { code, stdout, stderr };
}
