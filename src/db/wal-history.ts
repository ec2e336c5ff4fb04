/** A WAL position (`pg_lsn`, as Postgres prints it: `16/B374D848`) as a number of bytes. */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not a WAL position: "${text}"`);
  return (BigInt(`0x${match[1]}`) << 32n) + BigInt(`0x${match[2]}`);
}

interface Sample {
  readonly at: number;
  readonly lsn: bigint;
}

/**
 * When the primary's WAL reached each position, as seen by our own checks:
 * the samples of pg_current_wal_lsn() taken every check interval, kept for a
 * window. A replica's lag is then how long the primary has had WAL the
 * replica has not replayed: the time of the first sample past the replica's
 * replay position.
 *
 * Why not now() - pg_last_xact_replay_timestamp() on the replica: that is the
 * age of the last transaction replayed, not of the replica's view. After an
 * hour with no writes it says "an hour behind" of a replica that is exactly
 * current, and of one a few milliseconds behind the first write after the
 * pause. Positions compare what the two servers have, whatever the traffic.
 *
 * The answer is a lower bound, precise to one check interval: the missing WAL
 * was written between the sample before and the first sample past the
 * replica's position.
 */
export interface WalHistory {
  /** The primary's current WAL position, read at `at` (ms, the answer's arrival). */
  record(lsn: bigint, at: number): void;
  /** How long (ms) the primary has had WAL past `replayed`; 0 when the replica has all WAL seen so far. */
  lagMs(replayed: bigint, now: number): number;
  /** Whether anything was recorded yet (without it no lag can be told). */
  readonly known: boolean;
}

/**
 * `windowMs`: how long samples are kept. A replica behind every sample kept
 * is behind by at least the window: keep a little more than the largest lag
 * that must be told apart (DATABASE_READ_MAX_LAG_MS).
 */
export function createWalHistory(windowMs: number): WalHistory {
  // Ascending in both time and position: a sample is kept only when the position moved.
  const samples: Sample[] = [];
  return {
    record(lsn, at) {
      const last = samples.at(-1);
      if (!last || lsn > last.lsn) samples.push({ at, lsn });
      // The oldest sample stays until a newer one is also out of the window: it bounds the lag of a replica behind all others.
      while (samples.length > 2 && samples[1]!.at < at - windowMs) samples.shift();
    },
    lagMs(replayed, now) {
      const firstPast = samples.find((sample) => sample.lsn > replayed);
      return firstPast ? Math.max(0, now - firstPast.at) : 0;
    },
    get known() {
      return samples.length > 0;
    },
  };
}
