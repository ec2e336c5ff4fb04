/** The benchmarks' main(): --help, and an exit code with a sentence for each kind of failure. */
import { ConfigError } from '../../src/config.ts';
import { DatabaseUnavailableError } from '../../src/db/connection-check.ts';
import { UsageError } from '../ingest/model.ts';

/** 0 done (or --help), the run's own code, 2 bad arguments, 3 no database, 1 any other error. */
export async function runCli<O>(name: string, usage: string, argv: string[], parse: (argv: string[]) => O | 'help', run: (options: O) => Promise<number>): Promise<number> {
  try {
    const options = parse(argv);
    if (options === 'help') {
      process.stdout.write(usage);
      return 0;
    }
    return await run(options);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${name}: ${error.message} (see --help)\n`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof DatabaseUnavailableError) {
      process.stderr.write(`${name}: ${error.message}\n`);
      return 3;
    }
    process.stderr.write(`${name}: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}
