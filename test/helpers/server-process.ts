import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Test } from 'tap';

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

export interface ServiceProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

/**
 * src/server.ts as `make start` runs it (it starts the sandboxes and the
 * worker process), with `env` over this process's environment; killed at the
 * end of the test if it is still running.
 */
export function spawnService(t: Test, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, [path.join(projectRoot, 'src/server.ts')], {
    cwd: projectRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** A cookie jar good enough for one site. */
export function cookieJar() {
  const cookies = new Map<string, string>();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    take(response: Response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair!.indexOf('=');
        cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
      }
    },
  };
}

/** Polls `check` every 250 ms until it gives a value. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
