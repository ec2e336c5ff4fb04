/**
 * Phase 6's check, per order: paid once, one invoice with its PDF, no credit
 * note; at the supplier exactly once (the sandbox's orders by external id,
 * and the orders its POST /v1/orders created) under the id we stored;
 * delivered there and here; as many shipments rows as the supplier's
 * packages; e-mails = 1 invoice + 1 per package + 1 delivered, each sent and
 * in the mailbox exactly once (by Message-ID). The outbox's dedupe keys
 * (`invoice:`, `shipment:<supplier shipment id>`, `delivered:<order id>`)
 * allow one row each, so a second e-mail about the same thing shows as a
 * count above what the supplier's packages call for. Then what the whole
 * database must satisfy after any phase (verify.ts).
 */
import type pg from 'pg';
import type { ApiRequestRecord, SandboxOrder } from '../../src/sandboxes/supplier/supplier-sandbox.client.ts';
import type { Mailbox } from './helper.ts';
import type { Verification } from './model.ts';
import type { PaidOrder } from './timings.ts';
import { globalFindings } from './verify.ts';

interface Row {
  order_id: string;
  payment_state: string;
  fulfilment_state: string;
  needs_review: boolean;
  supplier_order_id: string | null;
  payments: string;
  invoices: string;
  credit_notes: string;
  pdfs: string;
  shipments: string;
  invoice_emails: string;
  shipment_emails: string;
  delivered_emails: string;
  other_emails: string;
  unsent: string;
  message_ids: string[] | null;
}

/** What the phase's orders added up to, for the report. */
export interface DeliveryCounts {
  /** Orders the supplier shipped in two packages. */
  split: number;
  shipments: number;
  emails: { invoice: number; shipment: number; delivered: number; other: number };
  /** POST /v1/orders for the phase's orders: created an order, replayed the first answer, anything else. */
  posts: { created: number; replayed: number; other: number };
  /** Lookups by external id (GET /v1/orders/@…) for the phase's orders. */
  lookups: number;
}

export async function verifyDelivered(pool: pg.Pool, phase: string, orders: PaidOrder[], atSupplier: SandboxOrder[], requests: ApiRequestRecord[],
  mailbox: Mailbox): Promise<{ verification: Verification; counts: DeliveryCounts }> {
  const { rows } = await pool.query<Row>(`/* bench */
    with phase as (select unnest($1::bigint[]) as id)
    select p.id::text as order_id, o.payment_state, o.fulfilment_state, o.needs_review, s.supplier_order_id,
      (select count(*) from payments y where y.order_id = p.id) as payments,
      (select count(*) from invoices i where i.order_id = p.id and i.kind = 'invoice') as invoices,
      (select count(*) from invoices i where i.order_id = p.id and i.kind = 'credit_note') as credit_notes,
      (select count(*) from invoice_documents d join invoices i on i.id = d.invoice_id where i.order_id = p.id) as pdfs,
      (select count(*) from shipments h where h.order_id = p.id) as shipments,
      (select count(*) from email_outbox e where e.order_id = p.id and e.purpose = 'invoice') as invoice_emails,
      (select count(*) from email_outbox e where e.order_id = p.id and e.purpose = 'shipment') as shipment_emails,
      (select count(*) from email_outbox e where e.order_id = p.id and e.purpose = 'delivered') as delivered_emails,
      (select count(*) from email_outbox e where e.order_id = p.id and e.purpose not in ('invoice', 'shipment', 'delivered')) as other_emails,
      (select count(*) from email_outbox e where e.order_id = p.id and e.status <> 'sent') as unsent,
      (select array_agg(e.message_id) from email_outbox e where e.order_id = p.id) as message_ids
    from phase p join orders o on o.id = p.id left join supplier_orders s on s.order_id = p.id`, [orders.map((order) => order.orderId)]);

  const numbers = new Map(orders.map((order) => [order.orderId, order.number]));
  const wanted = new Set(numbers.values());
  const remote = new Map<string, SandboxOrder[]>();
  for (const order of atSupplier) if (wanted.has(order.external_id)) remote.set(order.external_id, [...(remote.get(order.external_id) ?? []), order]);
  const created = new Map<string, number>();
  const posts = { created: 0, replayed: 0, other: 0 };
  let lookups = 0;
  for (const call of requests) {
    if (call.externalId === null || !wanted.has(call.externalId)) continue;
    if (call.method === 'GET' && call.path.startsWith('/v1/orders/')) lookups++;
    if (call.method !== 'POST' || call.path !== '/v1/orders') continue;
    if (call.status === 201 && !call.replayed) {
      posts.created++;
      created.set(call.externalId, (created.get(call.externalId) ?? 0) + 1);
    } else if (call.status !== null && call.status < 300 && call.replayed) posts.replayed++;
    else posts.other++;
  }

  let lost = orders.length - rows.length;
  let duplicated = 0;
  const tally: Record<string, number> = {};
  const note = (what: string, n = 1) => { tally[what] = (tally[what] ?? 0) + n; };
  if (lost > 0) note('missing from the database', lost);
  const counts: DeliveryCounts = { split: 0, shipments: 0, emails: { invoice: 0, shipment: 0, delivered: 0, other: 0 }, posts, lookups };
  for (const row of rows) {
    const n = (value: string) => Number(value);
    const number = numbers.get(row.order_id)!;
    const there = remote.get(number) ?? [];
    const packages = there[0]?.shipments.length ?? 0;
    const deliveries = (row.message_ids ?? []).map((id) => mailbox.received.get(id)?.length ?? 0);
    counts.split += packages > 1 ? 1 : 0;
    counts.shipments += n(row.shipments);
    counts.emails.invoice += n(row.invoice_emails);
    counts.emails.shipment += n(row.shipment_emails);
    counts.emails.delivered += n(row.delivered_emails);
    counts.emails.other += n(row.other_emails);

    const missing: string[] = [];
    const extra: string[] = [];
    if (row.payment_state !== 'paid') missing.push(`not paid (${row.payment_state})`);
    if (row.needs_review) missing.push('flagged for review');
    if (n(row.payments) === 0) missing.push('without a payment row');
    if (n(row.invoices) === 0) missing.push('without an invoice');
    else if (n(row.pdfs) === 0) missing.push('without an invoice PDF');
    if (there.length === 0) missing.push('not at the supplier');
    else if (there[0]!.status !== 'delivered') missing.push(`${there[0]!.status} at the supplier, not delivered`);
    if (there.length > 0 && row.supplier_order_id !== there[0]!.id) missing.push(row.supplier_order_id ? 'stored with another supplier order id' : 'without the supplier order id stored');
    if (row.fulfilment_state !== 'delivered') missing.push(`not delivered here (${row.fulfilment_state})`);
    if (n(row.shipments) < packages) missing.push('with fewer shipments rows than packages at the supplier');
    if (n(row.invoice_emails) === 0) missing.push('without an invoice e-mail');
    if (n(row.shipment_emails) < packages) missing.push('with fewer shipment e-mails than packages');
    if (n(row.delivered_emails) === 0) missing.push('without a "delivered" e-mail');
    if (n(row.unsent) > 0) missing.push('with e-mails still queued or failed');
    if (deliveries.some((k) => k === 0)) missing.push('with e-mails sent but not in the mailbox');

    if (n(row.payments) > 1) extra.push('paid more than once');
    if (n(row.invoices) > 1) extra.push('invoiced more than once');
    if (n(row.credit_notes) > 0) extra.push('credited');
    if (there.length > 1) extra.push('at the supplier more than once');
    if ((created.get(number) ?? 0) > 1) extra.push('created at the supplier by more than one POST');
    if (n(row.shipments) > packages && there.length > 0) extra.push('with more shipments rows than packages at the supplier');
    if (n(row.invoice_emails) > 1) extra.push('with more than one invoice e-mail');
    if (n(row.shipment_emails) > Math.max(packages, n(row.shipments))) extra.push('with more shipment e-mails than packages');
    if (n(row.delivered_emails) > 1) extra.push('with more than one "delivered" e-mail');
    if (n(row.other_emails) > 0) extra.push('with other e-mails (rejected, cancelled, credit note)');
    if (deliveries.some((k) => k > 1)) extra.push('with an e-mail in the mailbox more than once');

    for (const what of [...missing, ...extra]) note(what);
    if (missing.length > 0) lost++;
    duplicated += Math.max(0, n(row.payments) - 1) + Math.max(0, n(row.invoices) - 1) + n(row.credit_notes) + Math.max(0, there.length - 1) +
      Math.max(0, (created.get(number) ?? 0) - 1) + (there.length > 0 ? Math.max(0, n(row.shipments) - packages) : 0) + Math.max(0, n(row.invoice_emails) - 1) + Math.max(0, n(row.delivered_emails) - 1) +
      Math.max(0, n(row.shipment_emails) - Math.max(packages, n(row.shipments))) + deliveries.reduce((sum, k) => sum + Math.max(0, k - 1), 0);
  }
  const global = await globalFindings(pool, mailbox);
  const findings = [...Object.entries(tally).map(([what, k]) => `${k} orders ${what}`), ...global.findings];
  const verification = { phase, lost: lost + global.lost, duplicated: duplicated + global.duplicated, findings, ok: findings.length === 0 && lost + duplicated === 0 };
  return { verification, counts };
}
