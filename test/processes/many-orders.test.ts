import t from 'tap';
import { waitFor } from '../helpers/server-process.ts';
import { expectEveryEffectOnce } from './order-effects.ts';
import { checkoutOn, processFleet } from './process-fleet.ts';

const ORDERS = 16;

t.test('many orders through two web processes and two workers: every effect exactly once, invoice numbers without gaps', async (t) => {
  const fleet = await processFleet(t);
  const webs = await Promise.all(['web-a', 'web-b'].map((name) => fleet.web(name)));
  await fleet.sendGatewayWebhooksTo(webs[0]!);
  await fleet.sendSupplierWebhooksTo(webs[1]!);
  const workers = await Promise.all(['worker-1', 'worker-2'].map((name) => fleet.worker(name, { JOB_SUPERVISE_SECONDS: '2' })));
  // What at-least-once delivery brings, on purpose: some payment events arrive twice, some supplier calls fail and are retried.
  await fleet.gateway.addFaults({ duplicateWebhooks: 6 });
  await fleet.supplier.addFaults({ fail5xx: { rate: 0.2, status: 503 } });

  // Checkouts alternate between the web processes, all at once, and every one is paid.
  const orders = await Promise.all(Array.from({ length: ORDERS }, async (_, i) => {
    const quantity = 1 + (i % 3);
    const { orderId, sessionId } = await checkoutOn(fleet, webs[i % 2]!.url, `buyer-${i}@example.com`, quantity);
    await fleet.gateway.pay(sessionId);
    return { orderId, quantity };
  }));

  await waitFor(`${ORDERS} invoice e-mails and ${ORDERS} orders at the supplier`, async () =>
    (await fleet.messages()).length >= ORDERS && (await fleet.supplier.orders()).length >= ORDERS, 180_000);
  await waitFor('every submission and webhook settled', async () => {
    const { rows } = await fleet.pool.query<{ n: number }>(
      `select (select count(*) from supplier_orders where supplier_order_id is null)
            + (select count(*) from webhook_events where processed_at is null)
            + (select count(*) from pgboss.job where state in ('created', 'retry', 'active') and name not like '%dead_letter%' and name not like '%poll%' and name not like '%reconcile%' and name not like '%expire%')
            as n`);
    return Number(rows[0]!.n) === 0;
  }, 60_000);

  await expectEveryEffectOnce(t, fleet, orders);
  const { rows: [jobs] } = await fleet.pool.query<{ retried: number; dead: number }>(
    `select count(*) filter (where retry_count > 0)::int as retried, count(*) filter (where name like '%dead_letter')::int as dead from pgboss.job`);
  t.equal(jobs!.dead, 0, 'no job gave up');
  t.comment(`${jobs!.retried} jobs needed a retry (the supplier's 503s)`);
  for (const proc of [...webs, ...workers]) proc.child.kill('SIGTERM');
  for (const proc of [...webs, ...workers]) t.match(await proc.exited, { code: 0 }, 'stops cleanly');
});
