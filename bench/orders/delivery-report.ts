/** Phase 6 in the report: its row beside the target, where the time goes, and what the supplier sandbox and the outbox saw. */
import type { DeliveryPhaseOutput } from './delivery-phase.ts';
import { TARGETS } from './model.ts';
import { distribution, ms, pair, perSecond } from './stats.ts';

const en = (n: number) => n.toLocaleString('en');

export function deliveryLines(d: DeliveryPhaseOutput): string[] {
  const r = d.result;
  const met = r.completedPerSecond >= TARGETS.ordersPerSecond && r.completed === r.orders;
  const incomplete = Object.entries(r.incomplete).map(([state, n]) => `${en(n)} ${state}`).join(', ');
  const lines = [
    '| phase | orders completed (delivered, "delivered" e-mail in the mailbox) | payments/s offered | completed orders/s (overall; steady) | pay → delivered p50 / p99 ms | pay → invoice e-mail p50 / p99 ms | webhook server p50 / p99 ms (gateway; supplier) | target |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    `| ${r.title} | ${en(r.completed)} / ${en(r.orders)}${incomplete ? ` (not: ${incomplete})` : ''} | ${perSecond(r.payRate)} | ${perSecond(r.completedPerSecond)}; ${perSecond(r.steadyPerSecond)} | ` +
      `${pair(r.payToDelivered)} | ${pair(r.payToInvoice)} | ${pair(r.webhookServer)}; ${pair(r.supplierWebhookServer)} | ` +
      `>= ${TARGETS.ordersPerSecond} orders/s ${met ? '✓' : '✗'} (${(r.completedPerSecond / TARGETS.ordersPerSecond).toFixed(2)}× the target) |`,
    '',
    'Phase 6, where the time goes (p50 / p99 ms; database times are the writing transaction\'s start, so a stage holds the wait for its job):',
    '',
    '| stage | (6) to delivery |',
    '|---|---:|',
    ...r.stages.map((stage) => `| ${stage.label} | ${pair(stage.distribution)} |`),
    `| checkout (createCheckout: order, gateway session) | ${pair(r.checkout.latency)} (${perSecond(r.checkout.perSecond)}/s) |`,
    '',
  ];
  const s = d.supplier;
  const c = d.counts;
  const types = Object.entries(s.byType).map(([type, n]) => `${type} ${en(n)}`).join(', ');
  const g = d.gateway;
  const attempts = distribution(g.attemptMs);
  const emails = c.emails.invoice + c.emails.shipment + c.emails.delivered + c.emails.other;
  lines.push(
    `Supplier sandbox (phase 6's orders): POST /v1/orders ${en(c.posts.created)} created, ${c.posts.replayed} replayed, ${c.posts.other} other; ${c.lookups} lookups; ` +
      `${en(c.shipments)} shipments (${en(c.split)} orders in two packages); ` +
      `${en(s.events)} webhooks (${types}), ${en(s.delivered)} delivered, ${s.retries} retried, ${s.notDelivered} not delivered; attempt p50 ${ms(s.attempt.p50)} ms, p99 ${ms(s.attempt.p99)} ms.`,
    `Gateway sandbox (phase 6): ${en(g.events)} events, ${en(g.delivered)} delivered, ${g.retries} retried, ${g.notDelivered} not delivered; attempt p50 ${ms(attempts.p50)} ms, p99 ${ms(attempts.p99)} ms.`,
    `E-mails of phase 6's orders: ${en(c.emails.invoice)} invoice + ${en(c.emails.shipment)} shipment + ${en(c.emails.delivered)} delivered` +
      `${c.emails.other ? ` + ${en(c.emails.other)} other` : ''} = ${en(emails)} (${(emails / Math.max(1, r.orders)).toFixed(2)} per order; expected 1 + packages + 1).`,
  );
  return lines;
}
