import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import t, { type Test } from 'tap';
import { countRows, waitFor, workflow, type Workflow } from '../helpers/order-workflow.ts';

const WORKER = path.resolve(import.meta.dirname, '../../src/worker.ts');

interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** The niceness of a process's main thread (field 19 of /proc/<pid>/stat). */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** `node src/worker.ts` against the test's database, gateway sandbox and mail sandbox; resolves once it says it runs. */
async function spawnWorker(t: Test, w: Workflow): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER], {
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME,
      DATABASE_URL: w.url, STRIPE_API_BASE: w.gatewayUrl, SMTP_URL: w.smtpUrl, PUBLIC_URL: 'http://shop.test', LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-20_000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('worker is running')) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`the worker exited (${code}) before it ran: ${stderr}`)));
  });
  return { child, exited, stderr: () => stderr };
}

t.test('the worker process killed mid-flow and started again: every order completes exactly once', async (t) => {
  const w = await workflow(t, { workers: false });
  const first = await spawnWorker(t, w);

  const quantities = [1, 2, 3, 1, 2, 3, 1, 2, 3, 1];
  const orders = await Promise.all(quantities.map((quantity) => w.checkout([{ productId: w.products.mug, quantity }])));
  await Promise.all(orders.map(async ({ orderId }) => w.gateway.pay(await w.sessionOf(orderId))));

  // Kill it while it works: some orders are paid, others not yet, jobs are running.
  await waitFor('a first paid order', async () => await countRows(w, `select from orders where payment_state = 'paid'`) > 0);
  first.child.kill('SIGKILL');
  t.match(await first.exited, { signal: 'SIGKILL' });
  t.ok(await countRows(w, `select from email_outbox where status = 'sent'`) < 10, 'killed before everything was done');

  const second = await spawnWorker(t, w);
  t.equal(niceOf(second.child.pid!), 5, 'the worker runs at niceness 5 (WORKER_NICE\'s default): requests go first');
  // Jobs the killed process held are retried once their heartbeats are missed (15 s); an e-mail
  // job it held, once it expires (the e-mail queue has no heartbeat).
  await waitFor('ten sent e-mails', async () => await countRows(w, `select from email_outbox where status = 'sent'`) === 10, 200_000);

  t.equal(await countRows(w, `select from orders where payment_state = 'paid'`), 10);
  t.equal(await countRows(w, `select from payments`), 10, 'one payment per order');
  t.equal(await countRows(w, `select from sales`), quantities.reduce((a, b) => a + b, 0), 'one sale per unit, once');
  const { rows } = await w.pool.query<{ n: number }>(`select sequence_number::int as n from invoices order by 1`);
  t.same(rows.map((r) => r.n), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'ten invoices, numbered without gaps');
  t.equal(await countRows(w, `select from invoice_documents where substring(pdf from 1 for 5) = '%PDF-'`), 10);
  t.equal(await countRows(w, `select from email_outbox`), 10, 'one e-mail per invoice');
  const messages = await w.messages();
  t.equal(new Set(messages.map((m) => m.subject)).size, 10, 'every invoice e-mail arrived');
  await waitFor('every webhook processed', async () => await countRows(w, `select from webhook_events where processed_at is null`) === 0);

  // A graceful stop ends the process with 0.
  second.child.kill('SIGTERM');
  t.match(await second.exited, { code: 0 }, second.stderr());
});
