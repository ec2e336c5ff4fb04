/**
 * A process that starts an embedded Postgres and holds it until SIGTERM, for
 * the tests of sharing and of recovering after a killed run.
 * argv: dataDir port
 */
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { createLogger } from '../../src/logger.ts';

const [dataDir, port] = process.argv.slice(2);
const server = await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port), log: createLogger('silent') });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
setInterval(() => {}, 60_000);
