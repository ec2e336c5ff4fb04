/**
 * `--workers M`: M worker processes held as one, so that the phases pause,
 * resume and stop "the worker" whatever M is. Started at once: each migrates
 * at start, under migrate's transaction-scoped advisory lock (the first does
 * the work, the others wait for it and find nothing to do), and on 2 busy
 * cores one start takes seconds.
 */
import { spawnWorker, type WorkerEnv, type WorkerProcess } from './worker-process.ts';

export interface WorkerGroup extends Omit<WorkerProcess, 'pid' | 'exited'> {
  readonly pids: readonly number[];
  /** With --count-queries: each worker's counts file, written when it exits. */
  readonly queryCountsFiles: readonly string[];
}

export async function spawnWorkers(count: number, env: WorkerEnv, logFd: number, profileDir: string | undefined): Promise<WorkerGroup> {
  const files = env.queryCountsFile ? Array.from({ length: count }, (_, i) => env.queryCountsFile!.replace(/\.json$/, `-${i + 1}.json`)) : [];
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => spawnWorker({ ...env, queryCountsFile: files[i] }, logFd, profileDir)));
  const workers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    for (const worker of workers) worker.kill();
    throw failed.reason;
  }
  return {
    pids: workers.map((worker) => worker.pid),
    queryCountsFiles: files,
    kill: () => workers.forEach((worker) => worker.kill()),
    pause: () => workers.forEach((worker) => worker.pause()),
    resume: () => workers.forEach((worker) => worker.resume()),
    // At once: each finishes its running jobs while the others do theirs.
    stop: async () => (await Promise.all(workers.map((worker) => worker.stop()))).join(', '),
  };
}
