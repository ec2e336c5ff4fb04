/**
 * Where the machine's CPU time goes during a phase, from /proc (Linux): this
 * process's main thread (the web side), its helper thread (sandboxes and load
 * generators) and its other threads (GC, libuv), the worker process, and the
 * Postgres processes; and the machine's busy, idle and stolen time. On 2
 * shared cores, CPU milliseconds per order bound the orders per second more
 * surely than any setting. Elsewhere (no /proc) it reports nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const TICK_MS = 10; // USER_HZ is 100 on Linux

export const HELPER_THREAD_NAME = 'bench-helper';

export interface CpuSnapshot {
  at: number;
  /** component → CPU ms so far, per process (so that processes that end or start in between do not skew the difference) */
  processes: Record<string, Record<number, number>>;
  machine: { busy: number; idle: number; steal: number };
}

/** Which Postgres processes serve the benchmark: the server's postmaster and the database's name. */
export interface PostgresScope {
  postmasterPid: number;
  database: string;
}

export interface CpuUsage {
  wallMs: number;
  /** Component → CPU ms in the interval. */
  components: Record<string, number>;
  /** All cores: ms busy, idle and stolen by the hypervisor. */
  machine: { busy: number; idle: number; steal: number };
}

export const COMPONENTS = {
  web: 'bench main thread (the web side: app, checkout, pools; with --web N only the shoppers\' HTTP client)',
  webProcesses: 'web processes (with --web N: node src/server.ts)',
  helper: 'sandboxes and load (bench helper thread)',
  benchOther: 'bench process, other threads (GC, libuv)',
  worker: 'worker processes',
  postgres: 'Postgres (the bench database\'s backends and the server\'s background processes)',
} as const;

function ticks(statLine: string): { comm: string; cpu: number } {
  const open = statLine.indexOf('(');
  const close = statLine.lastIndexOf(')');
  const rest = statLine.slice(close + 2).split(' ');
  return { comm: statLine.slice(open + 1, close), cpu: (Number(rest[11]) + Number(rest[12])) * TICK_MS };
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // the process or thread has gone
  }
}

/**
 * Finds the local Postgres server behind a connection (its backend's parent
 * is the postmaster); undefined when the server is elsewhere or /proc cannot
 * tell.
 */
export function postgresScope(backendPid: number, database: string): PostgresScope | undefined {
  const status = read(`/proc/${backendPid}/status`);
  const parent = status && /^PPid:\s+(\d+)/m.exec(status)?.[1];
  return parent && (read(`/proc/${parent}/cmdline`) ?? '').includes('postgres') ? { postmasterPid: Number(parent), database } : undefined;
}

/** `pids`: the worker processes and the web processes (none when the web side is this process). */
export function cpuSnapshot(pids: { workers: readonly number[]; web: readonly number[] }, postgres: PostgresScope | undefined): CpuSnapshot | undefined {
  if (os.platform() !== 'linux') return undefined;
  const processes: CpuSnapshot['processes'] = { web: {}, webProcesses: {}, helper: {}, benchOther: {}, worker: {}, postgres: {} };
  for (const tid of readdirSync('/proc/self/task')) {
    const line = read(`/proc/self/task/${tid}/stat`);
    if (!line) continue;
    const { comm, cpu } = ticks(line);
    const key = Number(tid) === process.pid ? 'web' : comm === HELPER_THREAD_NAME ? 'helper' : 'benchOther';
    processes[key]![Number(tid)] = cpu;
  }
  for (const [key, list] of [['worker', pids.workers], ['webProcesses', pids.web]] as const) {
    for (const pid of list) {
      const line = read(`/proc/${pid}/stat`);
      if (line) processes[key]![pid] = ticks(line).cpu;
    }
  }
  if (postgres) {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const line = read(`/proc/${pid}/stat`);
      if (!line?.includes('(postgres)')) continue;
      const parent = Number(line.slice(line.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(pid) !== postgres.postmasterPid && parent !== postgres.postmasterPid) continue;
      // Backends name their database in their title ("postgres: user db host(port) state"); background
      // processes name none. Other databases' backends (other people's work on a shared server) are left out.
      const title = (read(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ');
      if (/\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]/.test(title) && !title.includes(` ${postgres.database} `)) continue;
      processes.postgres![Number(pid)] = ticks(line).cpu;
    }
  }
  const [, user, nice, system, idle, iowait, irq, softirq, steal] = (read('/proc/stat') ?? '').split('\n')[0]!.trim().split(/\s+/).map(Number);
  return {
    at: performance.now(), processes,
    machine: { busy: (user! + nice! + system! + irq! + softirq!) * TICK_MS, idle: (idle! + iowait!) * TICK_MS, steal: steal! * TICK_MS },
  };
}

export function cpuUsage(from: CpuSnapshot | undefined, to: CpuSnapshot | undefined): CpuUsage | undefined {
  if (!from || !to) return undefined;
  return {
    wallMs: to.at - from.at,
    // A process that ended in between took its time with it (not counted); one that started counts from zero.
    components: Object.fromEntries(Object.entries(to.processes).map(([key, pids]) => [key,
      Object.entries(pids).reduce((sum, [pid, ms]) => sum + Math.max(0, ms - (from.processes[key]?.[Number(pid)] ?? 0)), 0)])),
    machine: { busy: to.machine.busy - from.machine.busy, idle: to.machine.idle - from.machine.idle, steal: to.machine.steal - from.machine.steal },
  };
}
