import type { Queue } from 'pg-boss';

/**
 * A pg-boss queue a feature owns: its name (`<aggregate>__<action>`) and options
 * (retries, expiry, dead-letter queue…). Queues are created at start, dead-letter
 * queues first (a queue naming a missing dead-letter queue cannot be created).
 */
export interface QueueSpec {
  readonly name: string;
  readonly options: Omit<Queue, 'name'>;
}
