/**
 * The job worker as it runs in production: `node src/worker.ts`, a process
 * of its own, configured by its environment alone (src/config.ts): the bench
 * database (DATABASE_URL, so it joins rather than starts a Postgres), the
 * gateway sandbox (STRIPE_API_BASE), the mail sandbox (SMTP_URL) and, with phase
 * 5 or 6, the supplier sandbox (SUPPLIER_API_URL, _TOKEN, _WEBHOOK_SECRET). Its
 * logs (stderr) go straight to the benchmark's log file, not through this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const WORKER = path.resolve(import.meta.dirname, '../../src/worker.ts');
const STARTUP_TIMEOUT_MS = 60_000;
/** The worker's own graceful stop waits up to 30 s for running jobs; a bit more, then SIGKILL. */
const STOP_TIMEOUT_MS = 40_000;

export interface WorkerEnv {
  databaseUrl: string;
  /** DATABASE_POOLING: transaction behind PgBouncer (--via-pgbouncer); session otherwise. */
  pooling?: 'session' | 'transaction';
  stripeApiBase: string;
  smtpUrl: string;
  webhookSecret: string;
  logLevel: string;
  /** With --count-queries: where the worker writes its statement counts when it exits. */
  queryCountsFile?: string;
  /** With phase 5 or 6: the supplier sandbox (SUPPLIER_API_URL with /v1, its token, the webhook secret). */
  supplier?: { apiUrl: string; apiToken: string; webhookSecret: string };
}

export interface WorkerProcess {
  pid: number;
  /** SIGTERM (graceful: running jobs finish), SIGKILL after a timeout; resolves with how it ended. */
  stop(): Promise<string>;
  /** SIGKILL now (a second Ctrl-C). */
  kill(): void;
  /** SIGSTOP / SIGCONT: the worker holds still (a diagnosis: the web side without the worker on the cores). */
  pause(): void;
  resume(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `logFd`: a descriptor of the log file opened for appending; the worker writes its stderr there itself. */
export async function spawnWorker(env: WorkerEnv, logFd: number, profileDir?: string): Promise<WorkerProcess> {
  const nodeArgs = [
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ...(env.queryCountsFile ? ['--import', path.resolve(import.meta.dirname, 'query-counter.ts')] : []),
  ];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, WORKER], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME,
      DATABASE_URL: env.databaseUrl, DATABASE_POOLING: env.pooling ?? 'session', STRIPE_API_BASE: env.stripeApiBase, SMTP_URL: env.smtpUrl,
      STRIPE_WEBHOOK_SECRET: env.webhookSecret, PUBLIC_URL: 'http://shop.bench.test', LOG_LEVEL: env.logLevel,
      // The worker's niceness as configured where the benchmark runs (the worker's default otherwise).
      ...(process.env.WORKER_NICE ? { WORKER_NICE: process.env.WORKER_NICE } : {}),
      ...(env.queryCountsFile ? { TANKTOP_BENCH_QUERY_COUNTS: env.queryCountsFile } : {}),
      ...(env.supplier ? { SUPPLIER_API_URL: env.supplier.apiUrl, SUPPLIER_API_TOKEN: env.supplier.apiToken, SUPPLIER_WEBHOOK_SECRET: env.supplier.webhookSecret } : {}),
    },
    stdio: ['ignore', 'pipe', logFd],
    // Its own process group: a Ctrl-C in the terminal reaches the benchmark, which stops the worker in order.
    detached: true,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let stdout = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the worker did not start within ${STARTUP_TIMEOUT_MS / 1000} s`)), STARTUP_TIMEOUT_MS);
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('worker is running')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`the worker exited (${code ?? signal}) before it ran; see the log file`));
      });
    });
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw error;
  }
  return {
    pid: child.pid!,
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    pause() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGSTOP');
    },
    resume() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return `had already exited (${child.exitCode ?? child.signalCode})`;
      child.kill('SIGCONT'); // in case it was paused
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const { code, signal } = await exited;
      clearTimeout(timer);
      return signal ? `killed (${signal})` : `exit code ${code}`;
    },
  };
}
