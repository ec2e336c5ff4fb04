import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Db } from '../db/kysely.ts';
import type { InvoiceKind } from './orders.schema.ts';

/** Everything an invoice or credit note shows, frozen when it is issued. */
export interface InvoiceSnapshot {
  kind: InvoiceKind;
  number: string;
  /** ISO timestamp, and the calendar day in the business time zone. */
  issuedAt: string;
  issueDate: string;
  /** ISO 4217, lower case. */
  currency: string;
  seller: { name: string; address: string[] };
  customer: { name: string; email: string };
  address: { line1: string; line2: string | null; postalCode: string; city: string; country: string };
  order: { id: string; number: string; placedOn: string };
  items: { name: string; quantity: number; unitPrice: string; lineTotal: string }[];
  total: string;
  /** For a credit note: the invoice it credits, if the order had one. */
  credits: { invoiceId: string; number: string } | null;
  /** Why a credit note was issued. */
  reason: string | null;
}

export interface IssueRequest {
  orderId: string;
  kind: InvoiceKind;
  seller: { name: string; address: readonly string[] };
  /** For credit notes. */
  reason?: string;
}

export interface IssuedInvoice {
  id: string;
  number: string;
  snapshot: InvoiceSnapshot;
}

const SERIES_PREFIX: Record<InvoiceKind, string> = { invoice: 'INV', credit_note: 'CN' };

/**
 * Issues the order's invoice or credit note inside the caller's transaction:
 * the next number of the kind's series for the current year (in the business
 * time zone), and a snapshot of the order as it is now. Call it last in the
 * transaction: it holds the series' counter row until commit.
 */
export async function issueInvoice(trx: Transaction<Database>, request: IssueRequest): Promise<IssuedInvoice> {
  const order = await trx.selectFrom('orders')
    .select(['id', 'number', 'currency', 'total', 'customer_name', 'customer_email', 'address_line1', 'address_line2', 'postal_code', 'city', 'country',
      sql<string>`to_char(created_at at time zone stats_time_zone(), 'YYYY-MM-DD')`.as('placed_on')])
    .where('id', '=', request.orderId)
    .executeTakeFirstOrThrow();
  const items = await trx.selectFrom('order_items')
    .select(['name', 'quantity', 'unit_price', sql<string>`(unit_price * quantity)::numeric(12, 2)::text`.as('line_total')])
    .where('order_id', '=', request.orderId)
    .orderBy('id')
    .execute();
  const credited = request.kind === 'credit_note'
    ? await trx.selectFrom('invoices').select(['id', 'number']).where('order_id', '=', request.orderId).where('kind', '=', 'invoice').executeTakeFirst()
    : undefined;

  const { rows: [allocated] } = await sql<{ series: string; sequence_number: string; issued_at: Date; issue_date: string }>`
    select series, allocate_invoice_number(series)::text as sequence_number, now() as issued_at,
           to_char(now() at time zone stats_time_zone(), 'YYYY-MM-DD') as issue_date
    from (select ${SERIES_PREFIX[request.kind]} || '-' || to_char(now() at time zone stats_time_zone(), 'YYYY') as series) as s`.execute(trx);
  const number = `${allocated!.series}-${allocated!.sequence_number.padStart(6, '0')}`;

  const snapshot: InvoiceSnapshot = {
    kind: request.kind,
    number,
    issuedAt: allocated!.issued_at.toISOString(),
    issueDate: allocated!.issue_date,
    currency: order.currency,
    seller: { name: request.seller.name, address: [...request.seller.address] },
    customer: { name: order.customer_name, email: order.customer_email },
    address: { line1: order.address_line1, line2: order.address_line2, postalCode: order.postal_code, city: order.city, country: order.country },
    order: { id: order.id, number: order.number, placedOn: order.placed_on },
    items: items.map((item) => ({ name: item.name, quantity: item.quantity, unitPrice: item.unit_price, lineTotal: item.line_total })),
    total: order.total,
    credits: credited ? { invoiceId: credited.id, number: credited.number } : null,
    reason: request.reason ?? null,
  };
  const inserted = await trx.insertInto('invoices').values({
    kind: request.kind,
    series: allocated!.series,
    sequence_number: allocated!.sequence_number,
    number,
    order_id: request.orderId,
    credits_invoice_id: credited?.id ?? null,
    snapshot: JSON.stringify(snapshot),
    total: order.total,
    currency: order.currency,
    issued_at: allocated!.issued_at,
  }).returning('id').executeTakeFirstOrThrow();
  return { id: inserted.id, number, snapshot };
}

export interface StoredInvoice {
  id: string;
  kind: InvoiceKind;
  number: string;
  orderId: string;
  snapshot: InvoiceSnapshot;
}

export async function findInvoice(db: Db | Transaction<Database>, invoiceId: string): Promise<StoredInvoice | undefined> {
  const row = await db.selectFrom('invoices').select(['id', 'kind', 'number', 'order_id', 'snapshot']).where('id', '=', invoiceId).executeTakeFirst();
  return row && { id: row.id, kind: row.kind, number: row.number, orderId: row.order_id, snapshot: row.snapshot as InvoiceSnapshot };
}

/** Stores (or replaces) the rendered PDF of an invoice. */
export async function storeInvoicePdf(db: Db | Transaction<Database>, invoiceId: string, pdf: Buffer): Promise<void> {
  await db.insertInto('invoice_documents').values({ invoice_id: invoiceId, pdf })
    .onConflict((conflict) => conflict.column('invoice_id').doUpdateSet({ pdf, rendered_at: sql`now()` }))
    .execute();
}

/** The rendered PDF and its file name, or undefined while it is not rendered yet. */
export async function getInvoicePdf(db: Db, invoiceId: string): Promise<{ filename: string; pdf: Buffer } | undefined> {
  const row = await db.selectFrom('invoice_documents as d').innerJoin('invoices as i', 'i.id', 'd.invoice_id')
    .select(['i.number', 'd.pdf']).where('d.invoice_id', '=', invoiceId).executeTakeFirst();
  return row && { filename: `${row.number}.pdf`, pdf: row.pdf };
}
