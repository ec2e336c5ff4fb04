/**
 * `--workers M`: M worker processes held as one, so that the phases pause,
 * resume and stop "the worker" whatever M is. Started one after the other:
 * each migrates at start, and one at a time keeps their start-up off each
 * other's locks (the first does the work, the others find nothing to do).
 */
import { spawnWorker, type WorkerEnv, type WorkerProcess } from './worker-process.ts';

export interface WorkerGroup extends Omit<WorkerProcess, 'pid' | 'exited'> {
  readonly pids: readonly number[];
  /** With --count-queries: each worker's counts file, written when it exits. */
  readonly queryCountsFiles: readonly string[];
}

export async function spawnWorkers(count: number, env: WorkerEnv, logFd: number, profileDir: string | undefined): Promise<WorkerGroup> {
  const workers: WorkerProcess[] = [];
  const files: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const queryCountsFile = env.queryCountsFile ? env.queryCountsFile.replace(/\.json$/, `-${i + 1}.json`) : undefined;
      if (queryCountsFile) files.push(queryCountsFile);
      workers.push(await spawnWorker({ ...env, queryCountsFile }, logFd, profileDir));
    }
  } catch (error) {
    for (const worker of workers) worker.kill();
    throw error;
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
