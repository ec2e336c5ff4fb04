export interface Timer {
  /** When it fires, in real time (ISO 8601). */
  readonly at: string;
}

export interface Clock {
  readonly speed: number;
  /** Runs `work` after `ms` of the supplier's time (ms / speed of real time). */
  after(ms: number, work: () => void): Timer;
  cancel(timer: Timer): void;
  /** Stops every pending timer (the sandbox is closing). */
  close(): void;
}

/**
 * The supplier's clock: production and shipping take their configured time
 * divided by `speed`, so a demo can watch an order go from pending to
 * delivered in seconds and a test can set the delays to 0.
 */
export function createClock(speed: number): Clock {
  if (!Number.isFinite(speed) || speed <= 0) throw new Error('clock.speed must be a number above 0');
  const timers = new Map<Timer, NodeJS.Timeout>();
  let closed = false;
  return {
    speed,
    after(ms, work) {
      const realMs = ms / speed;
      const timer: Timer = { at: new Date(Date.now() + realMs).toISOString() };
      if (closed) return timer;
      const handle = setTimeout(() => {
        timers.delete(timer);
        work();
      }, realMs);
      timers.set(timer, handle);
      return timer;
    },
    cancel(timer) {
      clearTimeout(timers.get(timer));
      timers.delete(timer);
    },
    close() {
      closed = true;
      for (const handle of timers.values()) clearTimeout(handle);
      timers.clear();
    },
  };
}
