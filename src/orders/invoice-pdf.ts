import type { InvoiceSnapshot } from './invoices.repository.ts';
import { formatAmount } from './money.ts';
import { documentWithSharedFonts } from './pdf-standard-fonts.ts';

const regions = new Intl.DisplayNames(['en'], { type: 'region' });
const MARGIN = 56;

/**
 * The PDF of an invoice or credit note, drawn from its snapshot alone (never
 * from the live order or customer), so rendering it again, today or in five
 * years, shows what was issued. pdfkit's built-in Helvetica covers Latin
 * scripts, € and accented letters.
 */
export function renderInvoicePdf(snapshot: InvoiceSnapshot): Promise<Buffer> {
  return drawInvoice(documentWithSharedFonts(invoiceDocumentOptions(snapshot), ['Helvetica', 'Helvetica-Bold']), snapshot);
}

/** The document's settings; its dates are the invoice's, so two renderings of a snapshot are the same bytes. */
export function invoiceDocumentOptions(snapshot: InvoiceSnapshot): PDFKit.PDFDocumentOptions {
  return {
    size: 'A4',
    margin: MARGIN,
    info: { Title: `${titleOf(snapshot)} ${snapshot.number}`, Author: snapshot.seller.name, CreationDate: new Date(snapshot.issuedAt) },
  };
}

function titleOf(snapshot: InvoiceSnapshot): string {
  return snapshot.kind === 'invoice' ? 'Invoice' : 'Credit note';
}

/** Draws the snapshot on a new document (in Helvetica and Helvetica-Bold) and ends it; resolves to its bytes. */
export function drawInvoice(doc: PDFKit.PDFDocument, snapshot: InvoiceSnapshot): Promise<Buffer> {
  const title = titleOf(snapshot);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const money = (amount: string) => `${formatAmount(amount)} ${snapshot.currency.toUpperCase()}`;
  const width = doc.page.width - 2 * MARGIN;

  doc.font('Helvetica-Bold').fontSize(20).text(title, { continued: false });
  doc.moveDown(0.3).font('Helvetica').fontSize(10);
  doc.text(`Number: ${snapshot.number}`);
  doc.text(`Date: ${snapshot.issueDate}`);
  doc.text(`Order: ${snapshot.order.number} of ${snapshot.order.placedOn}`);
  if (snapshot.kind === 'credit_note') {
    doc.text(snapshot.credits ? `Credits invoice ${snapshot.credits.number}`
      : snapshot.payment ? 'Refunds a second payment received for this order (its invoice stands)'
        : 'Credits the payment of this order (no invoice was issued)');
    if (snapshot.reason) doc.text(`Reason: ${snapshot.reason}`);
  }

  const top = doc.y + 20;
  doc.font('Helvetica-Bold').text('From', MARGIN, top);
  doc.font('Helvetica').text([snapshot.seller.name, ...snapshot.seller.address].join('\n'), MARGIN, doc.y, { width: width / 2 - 10 });
  const sellerBottom = doc.y;
  const address = snapshot.address;
  doc.font('Helvetica-Bold').text('Bill to', MARGIN + width / 2, top);
  doc.font('Helvetica').text([
    snapshot.customer.name, address.line1, address.line2, `${address.postalCode} ${address.city}`,
    regions.of(address.country) ?? address.country, snapshot.customer.email,
  ].filter(Boolean).join('\n'), MARGIN + width / 2, doc.y, { width: width / 2 });
  doc.y = Math.max(sellerBottom, doc.y) + 24;

  const columns = [
    { label: 'Item', x: MARGIN, width: width * 0.5, align: 'left' as const },
    { label: 'Qty', x: MARGIN + width * 0.5, width: width * 0.1, align: 'right' as const },
    { label: 'Unit price', x: MARGIN + width * 0.6, width: width * 0.2, align: 'right' as const },
    { label: 'Amount', x: MARGIN + width * 0.8, width: width * 0.2, align: 'right' as const },
  ];
  const row = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica');
    let bottom = y;
    cells.forEach((cell, i) => {
      const column = columns[i]!;
      doc.text(cell, column.x, y, { width: column.width, align: column.align });
      bottom = Math.max(bottom, doc.y);
    });
    doc.x = MARGIN;
    doc.y = bottom + 4;
  };
  row(columns.map((column) => column.label), true);
  doc.moveTo(MARGIN, doc.y).lineTo(MARGIN + width, doc.y).stroke();
  doc.y += 4;
  for (const item of snapshot.items) row([item.name, String(item.quantity), money(item.unitPrice), money(item.lineTotal)]);
  doc.moveTo(MARGIN, doc.y).lineTo(MARGIN + width, doc.y).stroke();
  doc.y += 6;
  row(['', '', snapshot.kind === 'invoice' ? 'Total' : 'Total credited', money(snapshot.total)], true);

  doc.moveDown(2).font('Helvetica').fontSize(9).fillColor('#555555')
    .text(snapshot.kind === 'invoice' ? 'Paid in full by card. Thank you for your order.' : 'The amount has been refunded to the card it was paid with.', MARGIN, doc.y, { width });
  doc.end();
  return done;
}
