import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Logs go to stderr: JSON for machines, or readable lines when a person is
 * watching a terminal. stdout stays free for a command's own output.
 */
export function createLogger(level: string, name = 'tanktop'): Logger {
  const options = { name, level };
  if (process.stderr.isTTY) {
    return pino(options, pretty({ destination: 2, sync: true, ignore: 'pid,hostname,name', translateTime: 'SYS:HH:MM:ss' }));
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

export type { Logger };
