/**
 * Phase 5, the supplier backlog: with the worker paused (SIGSTOP), N paid
 * orders are inserted in bulk with their supplier__submit_order jobs
 * (backlog.ts) and the supplier sandbox is told to answer 20% of API calls
 * with a 5xx; then the worker resumes (SIGCONT) and the phase times it until
 * every order has left the backlog: handed to the supplier (its id stored),
 * or given up (supplier_failed after its 3 attempts, or supplier_rejected).
 * Progress is sampled every second. Then the orders at the supplier and the
 * calls it received are counted: each order there exactly once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { supplierSandboxClient } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import { deadLetterOf } from '../../src/orders/order-queues.ts';
import { SupplierQueues } from '../../src/supplier/supplier-queues.ts';
import { createBacklog } from './backlog.ts';
import { SUPPLIER_FAIL_RATE, SUPPLIER_PARKED_DELAY_MS, type BenchOptions } from './model.ts';
import { int, note } from './progress.ts';
import type { Stack } from './stack.ts';

/** The sandbox keeps its last 20,000 API calls: past that the call counts are incomplete. */
const REQUEST_LOG_SIZE = 20_000;
/** Nothing moved for this long: given up. */
const STALL_MS = 60_000;

export interface BacklogSample {
  /** ms since the worker resumed. */
  at: number;
  submitted: number;
  failed: number;
  rejected: number;
}

export interface BacklogPhaseOutput {
  orders: number;
  lines: number;
  units: number;
  insertMs: number;
  /** Worker resumed → the last order handed over or given up (its transaction's now()); null if not all got there. */
  drainedMs: number | null;
  /** The same, by the 1-second samples. */
  sampledMs: number | null;
  /** Worker resumed → last order handed over (the submitted ones only). */
  lastSubmittedMs: number | null;
  submitted: number;
  supplierFailed: number;
  supplierRejected: number;
  /** Neither handed over nor given up when the phase ended. */
  pending: number;
  samples: BacklogSample[];
  supplier: {
    /** Backlog orders the sandbox holds, distinct external ids among them, and external ids it holds more than once. */
    orders: number;
    distinct: number;
    duplicates: number;
    posts: { total: number; created: number; replayed: number; failed5xx: number; other: number };
    lookups: { total: number; found: number; notFound: number; failed5xx: number; other: number };
    /** API calls in the sandbox's log; at REQUEST_LOG_SIZE the oldest were dropped (counts incomplete). */
    logged: number;
  };
  /** Our side: supplier_orders rows of the backlog with a supplier id, and supplier ids stored twice. */
  storedIds: number;
  jobs: { failed: number; deadLettered: number; live: number };
  timedOut: boolean;
  findings: string[];
  /** An order at the supplier twice, or a supplier id stored for two orders. */
  duplicated: number;
}

export async function backlogPhase(stack: Stack, options: BenchOptions, signal: AbortSignal): Promise<BacklogPhaseOutput> {
  const label = '(5) supplier backlog';
  if (!stack.supplier) throw new Error('phase 5 needs the supplier sandbox (started with the stack when --phases has 5 or 6)');
  // Its jobs are sent with the in-process web side's pg-boss (parseOptions refuses phase 5 with --web N).
  if (!stack.boss) throw new Error('phase 5 needs the in-process web side (not --web N)');
  const boss = stack.boss;
  const sandbox = supplierSandboxClient(stack.supplier.url);
  const n = options.backlog;
  note(`${label}: pausing the worker (SIGSTOP), inserting ${int(n)} paid orders with their supplier__submit_order jobs`);
  stack.worker.pause();
  const insertStart = performance.now();
  const backlog = await createBacklog(stack.pool, boss, stack.catalogue, n, stack.config.orders.currency);
  const insertMs = performance.now() - insertStart;
  const { rows: jobShape } = await stack.pool.query<{ retry_limit: number; dead_letter: string | null; policy: string | null; singleton: string; n: string }>(`/* bench */
    select retry_limit, dead_letter, policy, count(singleton_key) as singleton, count(*) as n from pgboss.job
    where name = $1 and state = 'created' group by 1, 2, 3`, [SupplierQueues.submitOrder]);
  note(`${label}: ${int(backlog.orderIds.length)} orders (${int(backlog.lines)} lines, ${int(backlog.units)} units) in ${(insertMs / 1000).toFixed(1)} s; ` +
    `jobs waiting: ${jobShape.map((row) => `${row.n} (retry_limit ${row.retry_limit}, dead letter ${row.dead_letter}, policy ${row.policy}, ${row.singleton} with a singleton key)`).join('; ')}`);
  await sandbox.clearRequests();
  await sandbox.resetFaults();
  // Parked (phase 6, when it ran before, set the delays to zero and back): the backlog's orders stay pending, one webhook each.
  await sandbox.configure({ delaysMs: { production: SUPPLIER_PARKED_DELAY_MS, shipping: SUPPLIER_PARKED_DELAY_MS, delivery: SUPPLIER_PARKED_DELAY_MS }, splitShipmentsEvery: 0 });
  await sandbox.addFaults({ fail5xx: { rate: SUPPLIER_FAIL_RATE } });
  note(`${label}: the supplier sandbox answers ${SUPPLIER_FAIL_RATE * 100}% of API calls 5xx; resuming the worker (SIGCONT)`);

  const ids = backlog.orderIds;
  const count = async () => {
    const { rows: [row] } = await stack.pool.query<{ submitted: string; failed: string; rejected: string }>(`/* bench */
      select count(*) filter (where s.supplier_order_id is not null) as submitted,
        count(*) filter (where s.supplier_order_id is null and o.fulfilment_state = 'supplier_failed') as failed,
        count(*) filter (where s.supplier_order_id is null and o.fulfilment_state = 'supplier_rejected') as rejected
      from orders o join supplier_orders s on s.order_id = o.id where o.id = any($1::bigint[])`, [ids]);
    return { submitted: Number(row!.submitted), failed: Number(row!.failed), rejected: Number(row!.rejected) };
  };
  const resumedAt = Date.now();
  const start = performance.now();
  stack.worker.resume();
  const samples: BacklogSample[] = [];
  const deadline = start + options.drainTimeoutSeconds * 5 * 1000;
  let sampledMs: number | null = null;
  let lastChange = start;
  let lastNote = start;
  let timedOut = false;
  for (let tick = 1; !signal.aborted; tick++) {
    const due = start + tick * 1000;
    if (due > performance.now()) await sleep(due - performance.now(), undefined, { signal }).catch(() => {});
    const at = performance.now() - start;
    const sample = { at, ...(await count()) };
    const previous = samples.at(-1);
    if (!previous || previous.submitted + previous.failed + previous.rejected !== sample.submitted + sample.failed + sample.rejected) lastChange = performance.now();
    samples.push(sample);
    const out = sample.submitted + sample.failed + sample.rejected;
    if (performance.now() - lastNote >= 5_000 || out === n) {
      lastNote = performance.now();
      note(`${label}: ${(at / 1000).toFixed(0)} s: ${int(sample.submitted)} / ${int(n)} at the supplier, ${int(sample.failed)} supplier_failed, ${int(sample.rejected)} rejected`);
    }
    if (out === n) {
      sampledMs = at;
      break;
    }
    if (performance.now() > deadline || performance.now() - lastChange > STALL_MS) {
      timedOut = true;
      note(`${label}: giving up: ${performance.now() > deadline ? `${options.drainTimeoutSeconds * 5} s passed` : `nothing moved for ${STALL_MS / 1000} s`}`);
      break;
    }
  }
  // The last orders' jobs finish (a failed one moves into its dead-letter queue) before the counts.
  for (let i = 0; i < 20 && !signal.aborted; i++) {
    const { rows: [live] } = await stack.pool.query<{ n: string }>(`/* bench */ select count(*) as n from pgboss.job where name = $1 and state in ('created', 'retry', 'active')`, [SupplierQueues.submitOrder]);
    if (Number(live!.n) === 0) break;
    await sleep(500);
  }

  const final = await count();
  const { rows: [times] } = await stack.pool.query<{ last_out: Date | null; last_submitted: Date | null; stored: string; stored_twice: string }>(`/* bench */
    select (select max(e.created_at) from order_events e where e.order_id = any($1::bigint[]) and e.dimension = 'fulfilment'
              and e.to_state in ('submitted', 'supplier_failed', 'supplier_rejected')) as last_out,
           (select max(e.created_at) from order_events e where e.order_id = any($1::bigint[]) and e.dimension = 'fulfilment' and e.to_state = 'submitted') as last_submitted,
           (select count(*) from supplier_orders where order_id = any($1::bigint[]) and supplier_order_id is not null) as stored,
           (select count(*) - count(distinct supplier_order_id) from supplier_orders where supplier_order_id is not null) as stored_twice`, [ids]);
  const { rows: [jobs] } = await stack.pool.query<{ failed: string; dead: string; live: string }>(`/* bench */
    select count(*) filter (where name = $1 and state = 'failed') as failed,
      count(*) filter (where name = $2) as dead,
      count(*) filter (where name = $1 and state in ('created', 'retry', 'active')) as live
    from pgboss.job where name in ($1, $2)`, [SupplierQueues.submitOrder, deadLetterOf(SupplierQueues.submitOrder)]);
  const out = final.submitted + final.failed + final.rejected;
  const drainedMs = out === n && times!.last_out ? times!.last_out.getTime() - resumedAt : null;
  const lastSubmittedMs = times!.last_submitted ? times!.last_submitted.getTime() - resumedAt : null;

  note(`${label}: counting the orders and the API calls at the supplier sandbox`);
  const wanted = new Set(backlog.numbers);
  const atSupplier = (await sandbox.orders()).filter((order) => wanted.has(order.external_id));
  const perExternal = new Map<string, number>();
  for (const order of atSupplier) perExternal.set(order.external_id, (perExternal.get(order.external_id) ?? 0) + 1);
  const duplicates = [...perExternal.values()].reduce((sum, k) => sum + Math.max(0, k - 1), 0);
  const requests = await sandbox.requests();
  await sandbox.resetFaults();
  const ours = requests.filter((r) => r.externalId !== null && wanted.has(r.externalId));
  const is5xx = (status: number | null) => status !== null && status >= 500;
  const posts = ours.filter((r) => r.method === 'POST' && r.path === '/v1/orders');
  const lookups = ours.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/orders/'));
  const supplier: BacklogPhaseOutput['supplier'] = {
    orders: atSupplier.length, distinct: perExternal.size, duplicates,
    posts: {
      total: posts.length,
      created: posts.filter((r) => r.status === 201 && !r.replayed).length,
      replayed: posts.filter((r) => r.status !== null && r.status < 300 && r.replayed).length,
      failed5xx: posts.filter((r) => is5xx(r.status)).length,
      other: posts.filter((r) => !is5xx(r.status) && !(r.status !== null && r.status < 300)).length,
    },
    lookups: {
      total: lookups.length,
      found: lookups.filter((r) => r.status === 200).length,
      notFound: lookups.filter((r) => r.status === 404).length,
      failed5xx: lookups.filter((r) => is5xx(r.status)).length,
      other: lookups.filter((r) => r.status !== 200 && r.status !== 404 && !is5xx(r.status)).length,
    },
    logged: requests.length,
  };

  const findings: string[] = [];
  let duplicated = duplicates + Number(times!.stored_twice);
  if (duplicates) findings.push(`${duplicates} orders at the supplier more than once`);
  if (Number(times!.stored_twice)) findings.push(`${times!.stored_twice} supplier order ids stored for two orders`);
  if (supplier.posts.created > perExternal.size) { duplicated += supplier.posts.created - perExternal.size; findings.push(`${supplier.posts.created - perExternal.size} more orders created than distinct orders at the supplier`); }
  if (atSupplier.length !== final.submitted) findings.push(`${int(atSupplier.length)} backlog orders at the supplier, ${int(final.submitted)} recorded as handed over here`);
  const pending = n - out;
  if (pending) findings.push(`${int(pending)} orders neither handed over nor given up`);
  if (final.failed) findings.push(`${int(final.failed)} orders supplier_failed (3 attempts, all 5xx or lost)`);
  if (final.rejected) findings.push(`${int(final.rejected)} orders supplier_rejected`);
  if (supplier.logged >= REQUEST_LOG_SIZE) findings.push(`the sandbox's request log is full (${int(REQUEST_LOG_SIZE)}): the oldest calls were dropped, the call counts are short`);
  note(`${label}: ${int(final.submitted)} / ${int(n)} at the supplier, drained in ${drainedMs === null ? '—' : `${(drainedMs / 1000).toFixed(1)} s`}`);
  return {
    orders: n, lines: backlog.lines, units: backlog.units, insertMs, drainedMs, sampledMs, lastSubmittedMs,
    submitted: final.submitted, supplierFailed: final.failed, supplierRejected: final.rejected, pending, samples, supplier,
    storedIds: Number(times!.stored),
    jobs: { failed: Number(jobs!.failed), deadLettered: Number(jobs!.dead), live: Number(jobs!.live) },
    timedOut, findings, duplicated,
  };
}
