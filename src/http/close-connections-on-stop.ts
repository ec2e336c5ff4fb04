import type { FastifyInstance } from 'fastify';

/**
 * While the app stops (`app.close()`, on SIGTERM), every answer carries
 * `Connection: close`, so the connection it went out on closes after it.
 *
 * Why: close() ends idle keep-alive connections at once, but a connection
 * busy with a request at that moment becomes idle only afterwards, and then
 * stays open until Fastify's keep-alive timeout (72 s), and close() waits for
 * it. A load balancer or any HTTP client keeps its connections alive, so a
 * process stopped under load would outlive its shutdown budget (30 s) and be
 * killed with exit code 1 (test/processes/graceful-shutdown.test.ts).
 */
export function closeConnectionsOnStop(app: FastifyInstance): void {
  let stopping = false;
  // preClose runs when close() begins, before the requests in flight have finished.
  app.addHook('preClose', async () => {
    stopping = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (stopping) void reply.header('connection', 'close');
  });
}
