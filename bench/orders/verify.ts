/**
 * After each phase: nothing lost, nothing done twice. Per order of the
 * phase: paid once (one payment row), one invoice with its PDF, one invoice
 * e-mail sent and in the mailbox exactly once. Over the whole database:
 * sales rows = units sold, invoice numbers gapless, every stored webhook
 * processed without error, no failed or dead-lettered job.
 */
import type pg from 'pg';
import type { Mailbox } from './helper.ts';
import type { Verification } from './model.ts';

type Counts = Record<string, number>;

async function counts(pool: pg.Pool, text: string, values: unknown[] = []): Promise<Counts> {
  const { rows } = await pool.query<Record<string, string>>(text, values);
  return Object.fromEntries(Object.entries(rows[0]!).map(([key, value]) => [key, Number(value)]));
}

/** What the whole database must satisfy after any phase. */
export async function globalFindings(pool: pg.Pool, mailbox: Mailbox): Promise<{ lost: number; duplicated: number; findings: string[] }> {
  const c = await counts(pool, `select
      (select count(*) from sales) as sales,
      (select coalesce(sum(i.quantity), 0) from order_items i join orders o on o.id = i.order_id where o.payment_state = 'paid') as units,
      (select count(*) from webhook_events where processed_at is null) as unprocessed,
      (select count(*) from webhook_events where processing_error is not null) as errors,
      (select count(*) from pgboss.job where state = 'failed') as failed_jobs,
      (select count(*) from pgboss.job where name like '%dead_letter') as dead_letters,
      (select count(*) from email_outbox) as outbox`);
  const { rows: series } = await pool.query<{ series: string; n: string; distinct_n: string; low: string; high: string }>(`
    select series, count(*) as n, count(distinct sequence_number) as distinct_n, min(sequence_number) as low, max(sequence_number) as high
    from invoices group by series order by series`);
  const findings: string[] = [];
  let lost = 0;
  let duplicated = 0;
  if (c.sales! > c.units!) { duplicated += c.sales! - c.units!; findings.push(`${c.sales! - c.units!} sales rows more than units sold`); }
  if (c.sales! < c.units!) { lost += c.units! - c.sales!; findings.push(`${c.units! - c.sales!} units sold without a sales row`); }
  for (const s of series) {
    const [n, distinct, low, high] = [Number(s.n), Number(s.distinct_n), Number(s.low), Number(s.high)];
    if (distinct !== n) { duplicated += n - distinct; findings.push(`${s.series}: ${n - distinct} numbers issued twice`); }
    if (low !== 1 || high !== distinct) findings.push(`${s.series}: numbers ${low}…${high} for ${distinct} invoices (not gapless)`);
  }
  if (c.unprocessed) findings.push(`${c.unprocessed} stored webhooks not processed`);
  if (c.errors) findings.push(`${c.errors} webhooks with a processing error`);
  if (c.failed_jobs) findings.push(`${c.failed_jobs} failed jobs`);
  if (c.dead_letters) findings.push(`${c.dead_letters} dead-lettered jobs`);
  const copies = [...mailbox.received.values()].reduce((sum, times) => sum + times.length - 1, 0);
  if (copies) { duplicated += copies; findings.push(`${copies} e-mails delivered more than once (same Message-ID)`); }
  if (mailbox.total() > c.outbox!) { duplicated += mailbox.total() - c.outbox!; findings.push(`${mailbox.total() - c.outbox!} more messages in the mailbox than in the outbox`); }
  if (mailbox.missed()) findings.push(`${mailbox.missed()} messages left the mailbox before the watcher saw them (cannot check them)`);
  return { lost, duplicated, findings };
}

/** The orders of a workflow phase, each through to its e-mail. */
export async function verifyOrders(pool: pg.Pool, phase: string, orderIds: string[], mailbox: Mailbox): Promise<Verification> {
  const { rows } = await pool.query<{ order_id: string; state: string; needs_review: boolean; payments: string; invoices: string; credit_notes: string; pdfs: string; emails: string; sent: string; message_ids: string[] | null }>(`
    with phase as (select unnest($1::bigint[]) as id)
    select p.id::text as order_id, o.payment_state as state, o.needs_review,
      (select count(*) from payments y where y.order_id = p.id) as payments,
      (select count(*) from invoices i where i.order_id = p.id and i.kind = 'invoice') as invoices,
      (select count(*) from invoices i where i.order_id = p.id and i.kind = 'credit_note') as credit_notes,
      (select count(*) from invoice_documents d join invoices i on i.id = d.invoice_id where i.order_id = p.id) as pdfs,
      (select count(*) from email_outbox e where e.order_id = p.id) as emails,
      (select count(*) from email_outbox e where e.order_id = p.id and e.status = 'sent') as sent,
      (select array_agg(e.message_id) from email_outbox e where e.order_id = p.id) as message_ids
    from phase p join orders o on o.id = p.id`, [orderIds]);
  let lost = orderIds.length - rows.length;
  let duplicated = 0;
  const tally: Record<string, number> = {};
  const note = (what: string, n = 1) => { tally[what] = (tally[what] ?? 0) + n; };
  for (const row of rows) {
    const [payments, invoices, creditNotes, pdfs, emails, sent] = [row.payments, row.invoices, row.credit_notes, row.pdfs, row.emails, row.sent].map(Number) as [number, number, number, number, number, number];
    const deliveries = (row.message_ids ?? []).map((id) => mailbox.received.get(id)?.length ?? 0);
    const complete = row.state === 'paid' && !row.needs_review && payments === 1 && invoices === 1 && pdfs === 1 && emails === 1 && sent === 1 && deliveries[0] === 1;
    if (!complete) {
      if (row.state !== 'paid') note(`not paid (${row.state})`);
      if (row.needs_review) note('flagged for review');
      if (payments === 0) note('without a payment row');
      if (invoices === 0) note('without an invoice');
      if (pdfs === 0 && invoices > 0) note('without a PDF');
      if (emails === 0 && invoices > 0) note('without an e-mail queued');
      if (emails > 0 && sent < emails) note('with the e-mail still queued (not sent)');
      if (sent > 0 && deliveries.some((n) => n === 0)) note('with the e-mail sent but not in the mailbox');
      const missing = row.state !== 'paid' || payments === 0 || invoices === 0 || pdfs === 0 || emails === 0 || sent === 0 || deliveries.every((n) => n === 0);
      if (missing) lost++;
    }
    const extra = Math.max(0, payments - 1) + Math.max(0, invoices - 1) + creditNotes + Math.max(0, emails - 1) + deliveries.reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    if (extra > 0) {
      duplicated += extra;
      if (payments > 1) note('paid more than once');
      if (invoices > 1) note('invoiced more than once');
      if (creditNotes > 0) note('credited');
      if (emails > 1) note('more than one e-mail queued');
      if (deliveries.some((n) => n > 1)) note('e-mail delivered more than once');
    }
  }
  const global = await globalFindings(pool, mailbox);
  const findings = [...Object.entries(tally).map(([what, n]) => `${n} orders ${what}`), ...global.findings];
  return { phase, lost: lost + global.lost, duplicated: duplicated + global.duplicated, findings, ok: findings.length === 0 && lost + duplicated === 0 };
}

/** Counts that a phase of replayed webhooks must leave as they were. */
export async function workflowTotals(pool: pg.Pool): Promise<Counts> {
  return counts(pool, `select (select count(*) from payments) as payments, (select count(*) from invoices) as invoices,
    (select count(*) from email_outbox) as emails, (select count(*) from sales) as sales, (select count(*) from orders where needs_review) as flagged`);
}

/**
 * The webhook phase: every event answered 2xx was stored once and processed
 * (as `expectedOutcome`), and, when the database was at rest before (`before`),
 * changed no payment, invoice, e-mail or sale.
 */
export async function verifyWebhooks(pool: pg.Pool, eventIds: string[], accepted: number, expectedOutcome: string, before: Counts | undefined, mailbox: Mailbox): Promise<Verification> {
  const c = await counts(pool, `select count(*) as stored,
      count(*) filter (where processed_at is not null) as processed,
      count(*) filter (where processed_at is not null and outcome <> $2) as other_outcome
    from webhook_events where event_id = any($1)`, [eventIds, expectedOutcome]);
  const findings: string[] = [];
  let lost = 0;
  let duplicated = 0;
  if (c.stored! < accepted) { lost += accepted - c.stored!; findings.push(`${accepted - c.stored!} events answered 2xx but not stored`); }
  if (c.processed! < c.stored!) { lost += c.stored! - c.processed!; findings.push(`${c.stored! - c.processed!} stored events not processed`); }
  if (c.other_outcome) findings.push(`${c.other_outcome} events processed with another outcome than "${expectedOutcome}"`);
  if (c.other_outcome) duplicated += c.other_outcome;
  if (before) {
    const after = await workflowTotals(pool);
    for (const key of Object.keys(before)) {
      const change = after[key]! - before[key]!;
      if (change !== 0) { duplicated += Math.abs(change); findings.push(`${key} changed by ${change}`); }
    }
  }
  const global = await globalFindings(pool, mailbox);
  findings.push(...global.findings);
  return { phase: '(4) webhook endpoint', lost: lost + global.lost, duplicated: duplicated + global.duplicated, findings, ok: findings.length === 0 };
}
