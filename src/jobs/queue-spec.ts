import type { QueueOptions } from 'pg-boss';

/**
 * A pg-boss queue a feature owns: its name (`<aggregate>__<action>`) and options.
 * Queues are created at start, dead-letter queues first (a queue naming a
 * missing dead-letter queue cannot be created).
 */
export interface QueueSpec {
  readonly name: string;
  readonly options: QueueOptions;
}
