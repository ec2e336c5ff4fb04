import type { ReadTarget } from '../db/read-replicas.ts';

/**
 * What a page read from a lagging replica says above its numbers, or
 * undefined. Lag is a lower bound precise to one check interval
 * (src/db/wal-history.ts), so it is said in whole seconds, "at least".
 */
export function readNotice(target: ReadTarget): string | undefined {
  if (!target.standby || !target.behind) return undefined;
  const seconds = Math.max(1, Math.floor(target.lagMs / 1000));
  return `These numbers come from a read replica that was at least ${seconds} s behind the primary at its last check: the newest sales may be missing.`;
}

/**
 * The server side of a stats ETag. The change marker alone names a state of
 * the rollups only along one commit order, and a standby makes commits
 * visible in WAL order, which can differ from the order in which the primary
 * made them visible: the same marker could then name two different sets of
 * rows on the primary and on a replica. So a 304 is given only by a server of
 * the same kind as the one that labelled the copy (every replica replays the
 * same WAL, so one order among them), and a page carrying a lag notice is
 * labelled by it too: the notice is part of what the client holds.
 */
export function etagScope(target: ReadTarget, notice: string | undefined): string {
  return target.standby ? `standby\0${notice ?? ''}` : 'primary';
}
