import type { Db } from '../db/kysely.ts';
import { formatCount } from '../stats/format.ts';
import { when } from './ops-format.ts';
import { deadLetters, errorOf, orderIdsOfJobs } from './ops-jobs.repository.ts';
import { orderNumbers } from './ops-orders.repository.ts';
import { opsNav } from './ops-orders.service.ts';
import type { OpsQueues } from './ops-queues.ts';
import { FLASHES, type Flash } from './ops-query.ts';

export const DEAD_LETTER_LIMIT = 200;

/** Every dead-letter queue and every main queue's failed jobs that wait for a person, newest first. */
export async function deadLettersPage(db: Db, queues: OpsQueues, options: { queue?: string; done?: Flash; canRetry: boolean }) {
  const { rows, counts } = await deadLetters(db, queues, { queue: options.queue, limit: DEAD_LETTER_LIMIT });
  const orderIds = await orderIdsOfJobs(db, rows);
  const numbers = await orderNumbers(db, [...new Set(orderIds.filter((id): id is string => id !== undefined))]);
  const countOf = new Map(counts.map((c) => [c.queue, BigInt(c.n)]));
  const total = counts.reduce((n, c) => n + BigInt(c.n), 0n);
  const queueLink = (queue: string, group: string) => ({
    queue, group, count: formatCount((countOf.get(queue) ?? 0n).toString()),
    href: options.queue === queue ? '/ops/dead-letters' : `/ops/dead-letters?${new URLSearchParams({ queue }).toString()}`,
    current: options.queue === queue,
  });
  return {
    title: 'Dead letters and failed jobs',
    heading: 'Dead letters and failed jobs',
    opsNav: opsNav('dead-letters'),
    flash: options.done ? FLASHES[options.done] : undefined,
    queues: [...queues.deadLetters.map((q) => queueLink(q, 'dead-letter queue')), ...queues.main.filter((q) => countOf.has(q)).map((q) => queueLink(q, 'failed jobs'))],
    total: formatCount(total.toString()),
    shown: rows.length,
    truncated: total > BigInt(rows.length),
    filter: options.queue,
    canRetry: options.canRetry,
    rows: rows.map((job, i) => {
      const isCopy = queues.isDeadLetter(job.queue);
      const orderId = orderIds[i];
      return {
        id: job.id, queue: job.queue, isCopy,
        origin: isCopy ? job.source_name ?? 'unknown queue' : job.queue,
        orderId, orderNumber: orderId ? numbers.get(orderId) ?? `#${orderId}` : undefined,
        orderHref: orderId && numbers.has(orderId) ? `/ops/orders/${orderId}` : undefined,
        error: (isCopy ? errorOf(job.source_output) : errorOf(job.output)) ?? '(no error recorded)',
        attempts: isCopy ? (job.source_retry_count ?? 0) + 1 : job.retry_count + 1,
        failed: when(isCopy ? job.created_on : job.completed_on ?? job.created_on),
        data: JSON.stringify(job.data ?? {}).slice(0, 200),
      };
    }),
  };
}
