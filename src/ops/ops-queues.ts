import { allQueues } from '../jobs/all-queues.ts';
import type { QueueSpec } from '../jobs/queue-spec.ts';

/**
 * The queues the operations pages know, read from allQueues: a queue that
 * another names as its deadLetter (or whose name ends in `dead_letter`: the
 * e-mail queue's is `email__send_dead_letter`) is a dead-letter queue, every
 * other one a main queue. A queue added to allQueues (the supplier's, the
 * alerts') shows up here without a change.
 */
export interface OpsQueues {
  deadLetters: readonly string[];
  main: readonly string[];
  /** Main queue → its dead-letter queue. */
  deadLetterOf: ReadonlyMap<string, string>;
  isDeadLetter(queue: string): boolean;
  isKnown(queue: string): boolean;
}

export function opsQueues(specs: readonly QueueSpec[] = allQueues): OpsQueues {
  const deadLetterOf = new Map<string, string>();
  for (const spec of specs) {
    const deadLetter = (spec.options as { deadLetter?: string }).deadLetter;
    if (deadLetter) deadLetterOf.set(spec.name, deadLetter);
  }
  const named = new Set(deadLetterOf.values());
  const deadLetters = specs.map((spec) => spec.name).filter((name) => named.has(name) || name.endsWith('dead_letter'));
  const dead = new Set(deadLetters);
  const main = specs.map((spec) => spec.name).filter((name) => !dead.has(name));
  const known = new Set(specs.map((spec) => spec.name));
  return {
    deadLetters, main, deadLetterOf,
    isDeadLetter: (queue) => dead.has(queue),
    isKnown: (queue) => known.has(queue),
  };
}

/** Supplier queues move the fulfilment side of an order; everything else its payment side. */
export function dimensionOfQueue(queue: string): 'payment' | 'fulfilment' {
  return queue.startsWith('supplier__') ? 'fulfilment' : 'payment';
}
