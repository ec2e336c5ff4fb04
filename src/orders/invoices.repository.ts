import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { InvoiceKind } from './orders.schema.ts';
import { prepared, type Db } from '../db/kysely.ts';

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
  /** For a credit note refunding a second payment for the order (whose invoice stands): that payment. */
  payment?: { id: string } | null;
}

export interface IssueRequest {
  orderId: string;
  kind: InvoiceKind;
  seller: { name: string; address: readonly string[] };
  /** For credit notes. */
  reason?: string;
  /**
   * For a credit note refunding a second payment (not the order): that
   * payment and its amount. It credits no invoice: the order keeps its own.
   */
  payment?: { id: string; amount: string };
}

/** The invoice as inserted: its number is given when the transaction commits. */
export interface IssuedInvoice {
  id: string;
}

const SERIES_PREFIX: Record<InvoiceKind, string> = { invoice: 'INV', credit_note: 'CN' };

/**
 * Issues the order's invoice or credit note inside the caller's transaction:
 * the next number of the kind's series for the current year (in the business
 * time zone), and a snapshot of the order as it is now. The number is
 * taken when the caller's transaction commits (see sql/110_allocate_invoice_number.sql).
 */
export async function issueInvoice(trx: Transaction<Database>, request: IssueRequest): Promise<IssuedInvoice> {
  const order = await trx.selectFrom('orders')
    .select(['id', 'number', 'currency', 'total', 'customer_name', 'customer_email', 'address_line1', 'address_line2', 'postal_code', 'city', 'country',
      sql<string>`to_char(created_at at time zone stats_time_zone(), 'YYYY-MM-DD')`.as('placed_on')])
    .where('id', '=', request.orderId)
    .modifyEnd(prepared)
    .executeTakeFirstOrThrow();
  const items = await trx.selectFrom('order_items')
    .select(['name', 'quantity', 'unit_price', sql<string>`(unit_price * quantity)::numeric(12, 2)::text`.as('line_total')])
    .where('order_id', '=', request.orderId)
    .orderBy('id')
    .modifyEnd(prepared)
    .execute();
  const credited = request.kind === 'credit_note' && !request.payment
    ? await trx.selectFrom('invoices').select(['id', 'number']).where('order_id', '=', request.orderId).where('kind', '=', 'invoice').executeTakeFirst()
    : undefined;

  // The number is not known here: the database gives it at commit
  // (sql/110_allocate_invoice_number.sql), so the series' counter row is locked
  // for the commit alone, and concurrent payments do not queue behind this
  // transaction's remaining statements. The snapshot's number is set with it.
  const draft: Omit<InvoiceSnapshot, 'number' | 'issuedAt' | 'issueDate'> = {
    kind: request.kind,
    currency: order.currency,
    seller: { name: request.seller.name, address: [...request.seller.address] },
    customer: { name: order.customer_name, email: order.customer_email },
    address: { line1: order.address_line1, line2: order.address_line2, postalCode: order.postal_code, city: order.city, country: order.country },
    order: { id: order.id, number: order.number, placedOn: order.placed_on },
    items: items.map((item) => ({ name: item.name, quantity: item.quantity, unitPrice: item.unit_price, lineTotal: item.line_total })),
    total: request.payment?.amount ?? order.total,
    credits: credited ? { invoiceId: credited.id, number: credited.number } : null,
    reason: request.reason ?? null,
    ...(request.payment ? { payment: { id: request.payment.id } } : {}),
  };
  const { rows: [inserted] } = await sql<{ id: string }>`${prepared}
    insert into invoices (kind, series, order_id, credits_invoice_id, payment_id, snapshot, total, currency, issued_at)
    values (${request.kind}, ${SERIES_PREFIX[request.kind]} || '-' || to_char(now() at time zone stats_time_zone(), 'YYYY'),
            ${request.orderId}, ${credited?.id ?? null}, ${request.payment?.id ?? null},
            ${JSON.stringify(draft)}::jsonb || jsonb_build_object(
              'issuedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'issueDate', to_char(now() at time zone stats_time_zone(), 'YYYY-MM-DD')),
            ${request.payment?.amount ?? order.total}, ${order.currency}, now())
    returning id::text`.execute(trx);
  return inserted!;
}

export interface StoredInvoice {
  id: string;
  kind: InvoiceKind;
  number: string;
  orderId: string;
  snapshot: InvoiceSnapshot;
}

export async function findInvoice(db: Db | Transaction<Database>, invoiceId: string): Promise<StoredInvoice | undefined> {
  const row = await db.selectFrom('invoices').select(['id', 'kind', 'number', 'order_id', 'snapshot']).where('id', '=', invoiceId).modifyEnd(prepared).executeTakeFirst();
  return row && { id: row.id, kind: row.kind, number: row.number, orderId: row.order_id, snapshot: row.snapshot as InvoiceSnapshot };
}

/** Stores (or replaces) the rendered PDF of an invoice. */
export async function storeInvoicePdf(db: Db | Transaction<Database>, invoiceId: string, pdf: Buffer): Promise<void> {
  await db.insertInto('invoice_documents').values({ invoice_id: invoiceId, pdf })
    .onConflict((conflict) => conflict.column('invoice_id').doUpdateSet({ pdf, rendered_at: sql`now()` }))
    .modifyEnd(prepared)
    .execute();
}

/** The rendered PDF and its file name, or undefined while it is not rendered yet. */
export async function getInvoicePdf(db: Db, invoiceId: string): Promise<{ filename: string; pdf: Buffer } | undefined> {
  const row = await db.selectFrom('invoice_documents as d').innerJoin('invoices as i', 'i.id', 'd.invoice_id')
    .select(['i.number', 'd.pdf']).where('d.invoice_id', '=', invoiceId).executeTakeFirst();
  return row && { filename: `${row.number}.pdf`, pdf: row.pdf };
}
