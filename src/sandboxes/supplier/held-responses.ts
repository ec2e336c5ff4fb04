import type { Socket } from 'node:net';

/**
 * Responses an acceptThenTimeout fault never sends: the connection stays open
 * for the delay, as a supplier stuck after committing would, and is then
 * destroyed. Closing the sandbox destroys them at once (an open one would
 * keep the server from closing).
 */
export function createHeldResponses() {
  const held = new Map<Socket, NodeJS.Timeout>();
  return {
    hold(socket: Socket, ms: number): void {
      const timer = setTimeout(() => socket.destroy(), ms);
      held.set(socket, timer);
      socket.once('close', () => {
        clearTimeout(timer);
        held.delete(socket);
      });
    },
    close(): void {
      for (const [socket, timer] of held) {
        clearTimeout(timer);
        socket.destroy();
      }
      held.clear();
    },
  };
}

export type HeldResponses = ReturnType<typeof createHeldResponses>;
