import type { PgBoss, Queue, UpdateQueueOptions } from 'pg-boss';
import type { QueueSpec } from './queue-spec.ts';

/**
 * Creates the queues that do not exist and brings the others up to date
 * (createQueue ignores the options of an existing queue). Dead-letter queues
 * go first, whatever order the specs come in: a queue naming a missing
 * dead-letter queue cannot be created.
 */
export async function createQueues(boss: PgBoss, specs: readonly QueueSpec[]): Promise<void> {
  const options = (spec: QueueSpec) => spec.options as Omit<Queue, 'name'>;
  const deadLetters = new Set(specs.map((spec) => options(spec).deadLetter).filter((name): name is string => Boolean(name)));
  const ordered = [...specs.filter((spec) => deadLetters.has(spec.name)), ...specs.filter((spec) => !deadLetters.has(spec.name))];
  for (const spec of ordered) {
    const wanted = options(spec);
    if (await boss.getQueue(spec.name)) {
      // The policy and partitioning of a queue are fixed at creation.
      const { policy: _policy, partition: _partition, ...changeable } = wanted;
      await boss.updateQueue(spec.name, changeable as UpdateQueueOptions);
    } else {
      await boss.createQueue(spec.name, wanted);
    }
  }
}
