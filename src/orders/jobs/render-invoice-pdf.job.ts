import { queueEmail } from '../../email/queue-email.ts';
import type { JobHandler } from '../../jobs/work-queue.ts';
import { renderInvoicePdf } from '../invoice-pdf.ts';
import { findInvoice, storeInvoicePdf, type StoredInvoice } from '../invoices.repository.ts';
import { formatAmount } from '../money.ts';
import type { RenderInvoicePdfJob } from '../order-queues.ts';
import type { OrderJobDeps } from './order-jobs.deps.ts';

/**
 * invoice__render_pdf: draws the PDF of an invoice or credit note from its
 * snapshot, stores it (an upsert: rendering twice replaces it with the same
 * document) and, in the same transaction, queues the e-mail that carries it.
 * The e-mail's dedupe key is the invoice: however often this runs, one
 * message goes out.
 */
export function renderInvoicePdfJob(deps: OrderJobDeps): JobHandler<RenderInvoicePdfJob> {
  return async ({ invoiceId }, { log }) => {
    const invoice = await findInvoice(deps.db, invoiceId);
    if (!invoice) {
      log.warn({ invoiceId }, 'no such invoice: nothing to render');
      return 'missing';
    }
    const pdf = await renderInvoicePdf(invoice.snapshot);
    await deps.db.transaction().execute(async (trx) => {
      await storeInvoicePdf(trx, invoice.id, pdf);
      await queueEmail(trx, deps.boss, {
        dedupeKey: `invoice:${invoice.id}`,
        purpose: invoice.kind === 'invoice' ? 'invoice' : 'credit-note',
        orderId: invoice.orderId,
        to: invoice.snapshot.customer.email,
        ...emailContent(invoice, deps.config.publicUrl),
        attachments: [{ filename: `${invoice.number}.pdf`, contentType: 'application/pdf', content: pdf }],
      });
    });
    log.info({ orderId: invoice.orderId, invoice: invoice.number, bytes: pdf.length }, 'invoice rendered and its e-mail queued');
    return invoice.number;
  };
}

function emailContent(invoice: StoredInvoice, publicUrl: string): { template: string; data: Record<string, unknown> } {
  const { snapshot } = invoice;
  const orderUrl = `${publicUrl}/orders/${snapshot.order.number}`;
  if (invoice.kind === 'invoice') {
    return {
      template: 'invoice',
      data: {
        customerName: snapshot.customer.name, orderNumber: snapshot.order.number, invoiceNumber: snapshot.number,
        total: formatAmount(snapshot.total), currency: snapshot.currency.toUpperCase(), orderUrl,
      },
    };
  }
  return {
    template: 'credit-note',
    data: {
      creditNoteNumber: snapshot.number,
      // A payment refunded before the order was invoiced (it arrived after the order expired) credits no invoice;
      // nor does a second payment's refund (the order keeps its invoice).
      invoiceNumber: snapshot.credits?.number, orderNumber: snapshot.order.number, secondPayment: Boolean(snapshot.payment),
      total: `${formatAmount(snapshot.total)} ${snapshot.currency.toUpperCase()}`,
      orderUrl,
    },
  };
}
