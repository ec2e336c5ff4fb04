/**
 * `--web N`: the web side as production runs it, `node src/server.ts`
 * processes configured by their environment alone: the bench database
 * (directly or through PgBouncer), the gateway and mail sandboxes of the
 * helper thread (DEV_SANDBOXES=off: a server starts none of its own), no
 * demo data, and no worker of its own (START_WORKER=false: the benchmark
 * starts --workers M of them). Each listens on a port the kernel picks
 * (PORT=0) and says which on stdout; their logs (stderr) go to the log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const SERVER = path.resolve(import.meta.dirname, '../../src/server.ts');
const STARTUP_TIMEOUT_MS = 60_000;
/** The service closes its app, pg-boss and pool on SIGTERM; past this, SIGKILL. */
const STOP_TIMEOUT_MS = 20_000;

export interface WebEnv {
  databaseUrl: string;
  /** DATABASE_POOLING: transaction behind PgBouncer. */
  pooling: 'session' | 'transaction';
  stripeApiBase: string;
  smtpUrl: string;
  webhookSecret: string;
  /** The same for every web process: an order page's key, signed by one, opens on another. */
  sessionSecret: string;
  logLevel: string;
}

export interface WebProcess {
  pid: number;
  url: string;
  /** SIGTERM, SIGKILL after a timeout; resolves with how it ended. */
  stop(): Promise<string>;
  kill(): void;
}

export interface WebProcessOptions {
  logFd: number;
  profileDir?: string;
  /** With --count-queries: where this process writes its statement counts when it exits. */
  queryCountsFile?: string;
}

export async function spawnWebProcess(env: WebEnv, options: WebProcessOptions): Promise<WebProcess> {
  const nodeArgs = [
    ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []),
    ...(options.queryCountsFile ? ['--import', path.resolve(import.meta.dirname, 'query-counter.ts')] : []),
  ];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, SERVER], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME,
      DATABASE_URL: env.databaseUrl, DATABASE_POOLING: env.pooling, DEV_SANDBOXES: 'off', START_WORKER: 'false', DEMO_SALES: '0',
      STRIPE_API_BASE: env.stripeApiBase, SMTP_URL: env.smtpUrl, STRIPE_WEBHOOK_SECRET: env.webhookSecret,
      SESSION_SECRET: env.sessionSecret, PUBLIC_URL: 'http://shop.bench.test', LOG_LEVEL: env.logLevel, HOST: '127.0.0.1', PORT: '0',
      ...(options.queryCountsFile ? { TANKTOP_BENCH_QUERY_COUNTS: options.queryCountsFile } : {}),
    },
    stdio: ['ignore', 'pipe', options.logFd],
    // Its own process group: a Ctrl-C in the terminal reaches the benchmark, which stops it in order.
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let stdout = '';
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a web process did not start within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        // The start-up block ends with a blank line.
        const match = /Tanktop is running at (http:\/\/\S+)[\s\S]*\n\n/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`a web process exited (${code ?? signal}) before it listened; see the log file`));
      });
    });
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid!,
    url,
    kill() {
      if (alive()) child.kill('SIGKILL');
    },
    async stop() {
      if (!alive()) return `had already exited (${child.exitCode ?? child.signalCode})`;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const { code, signal } = await exited;
      clearTimeout(timer);
      return signal ? `killed (${signal})` : `exit code ${code}`;
    },
  };
}
