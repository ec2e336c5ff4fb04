import PDFDocument from 'pdfkit';
import t from 'tap';
import { drawInvoice, invoiceDocumentOptions, renderInvoicePdf } from '../../src/orders/invoice-pdf.ts';
import type { InvoiceSnapshot } from '../../src/orders/invoices.repository.ts';

const invoice: InvoiceSnapshot = {
  kind: 'invoice', number: 'INV-2026-000042', issuedAt: '2026-03-10T12:00:00.000Z', issueDate: '2026-03-10', currency: 'eur',
  seller: { name: 'Tanktop Ltd', address: ['1 Example Street', 'London EC1A 1AA', 'United Kingdom'] },
  customer: { name: 'Zoë Ünal-Øster', email: 'zoe@example.com' },
  address: { line1: 'Straße des 17. Juni 1', line2: 'Hinterhaus', postalCode: '10623', city: 'Berlin', country: 'DE' },
  order: { id: '7', number: 'TT-AB12-CD34', placedOn: '2026-03-09' },
  items: [
    { name: 'Café crème mug — “large”', quantity: 3, unitPrice: '12.50', lineTotal: '37.50' },
    { name: 'A product with a very long name that has to wrap onto a second line of the table without overlapping the next one', quantity: 1, unitPrice: '1234.00', lineTotal: '1234.00' },
  ],
  total: '1271.50', credits: null, reason: null,
};

t.test('an invoice renders from its snapshot alone into a PDF, accented names and € included', async (t) => {
  const pdf = await renderInvoicePdf(invoice);
  t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  t.match(pdf.subarray(-8).toString('latin1'), /%%EOF/);
  t.ok(pdf.length > 1000);
});

t.test('a credit note renders, with or without an invoice to credit', async (t) => {
  const credited = await renderInvoicePdf({ ...invoice, kind: 'credit_note', number: 'CN-2026-000001', credits: { invoiceId: '1', number: 'INV-2026-000042' }, reason: 'refunded' });
  const standalone = await renderInvoicePdf({ ...invoice, kind: 'credit_note', number: 'CN-2026-000002', credits: null, reason: 'payment received after the order was expired' });
  for (const pdf of [credited, standalone]) t.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
});

t.test('rendering the same snapshot twice gives documents of the same size', async (t) => {
  const [a, b] = await Promise.all([renderInvoicePdf(invoice), renderInvoicePdf(invoice)]);
  t.equal(a.length, b.length);
});

t.test('fonts shared between documents draw the same bytes as the fonts pdfkit opens for each document itself', async (t) => {
  const creditNote: InvoiceSnapshot = { ...invoice, kind: 'credit_note', number: 'CN-2026-000001', credits: { invoiceId: '1', number: 'INV-2026-000042' }, reason: 'refunded' };
  for (const snapshot of [invoice, creditNote]) {
    const plain = await drawInvoice(new PDFDocument(invoiceDocumentOptions(snapshot)), snapshot);
    t.match(plain.toString('latin1'), /\/BaseFont \/Helvetica-Bold/, 'the reference document uses both fonts');
    // One after another and several at once: no document may write into another's font objects.
    const sequential = [await renderInvoicePdf(snapshot), await renderInvoicePdf(snapshot)];
    const concurrent = await Promise.all([1, 2, 3].map(() => renderInvoicePdf(snapshot)));
    for (const [i, pdf] of [...sequential, ...concurrent].entries()) t.ok(pdf.equals(plain), `${snapshot.kind}, rendering ${i + 1}: same bytes`);
  }
});
