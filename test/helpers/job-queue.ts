import { PgBoss } from 'pg-boss';
import type { Test } from 'tap';
import { createBoss } from '../../src/jobs/boss.ts';
import { allQueues } from '../../src/jobs/all-queues.ts';
import { createQueues } from '../../src/jobs/create-queues.ts';
import { testLog } from './database.ts';

/**
 * A started pg-boss on the test's database (its own `pgboss` schema there),
 * with every queue created, stopped at teardown. It works no jobs unless the
 * test starts workers on it.
 */
export async function startTestBoss(t: Test, url: string, options: { schedule?: boolean } = {}): Promise<PgBoss> {
  const boss = createBoss(url, testLog, { max: 4, instanceName: 'test', schedule: options.schedule ?? false, superviseIntervalSeconds: 2 });
  await boss.start();
  t.teardown(() => boss.stop({ graceful: false, close: true }));
  await createQueues(boss, allQueues);
  return boss;
}

/** Jobs of a queue, in any state, optionally filtered by data. */
export async function jobsOf(boss: PgBoss, queue: string, data?: object) {
  return boss.findJobs(queue, data ? { data } : {});
}
