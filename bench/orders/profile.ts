/**
 * A CPU profile of this process's main thread (the web side: the app, the
 * checkout service, the pools), taken through the inspector, since
 * --cpu-prof cannot be passed through npm (NODE_OPTIONS refuses it). Open the
 * .cpuprofile in Chrome DevTools or speedscope.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

export interface Profiler {
  /** Stops profiling and writes the profile; returns its path. */
  stop(): Promise<string>;
}

export async function startProfiler(directory: string, name: string): Promise<Profiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1_000 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await mkdir(directory, { recursive: true });
      const file = path.join(directory, `${name}-${process.pid}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      return file;
    },
  };
}
