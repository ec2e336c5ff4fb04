import t from 'tap';
import { renderEmail } from '../../src/email/render-email.ts';

const invoiceData = {
  customerName: 'Ann <script>alert(1)</script> & "Co"',
  orderNumber: '1042',
  invoiceNumber: 'INV-2026-000123',
  total: '1,234.50',
  currency: 'EUR',
  orderUrl: 'https://shop.example.com/orders/42?a=1&b=2',
};

t.test('the invoice names the invoice and the order in its subject, text and HTML', async (t) => {
  const email = await renderEmail('invoice', invoiceData);
  t.equal(email.subject, 'Your invoice INV-2026-000123 for order #1042');
  t.match(email.text, 'Your invoice INV-2026-000123 is');
  t.match(email.text, 'Total: 1,234.50 EUR');
  t.match(email.html, '<strong>INV-2026-000123</strong>');
  t.match(email.html, /^<!doctype html>/);
});

t.test('the HTML escapes the data; the text and the subject keep it as written', async (t) => {
  const email = await renderEmail('invoice', invoiceData);
  t.notMatch(email.html, '<script>', 'no markup from the data in the HTML');
  t.match(email.html, 'Ann &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;');
  t.match(email.html, 'href="https://shop.example.com/orders/42?a&#x3D;1&amp;b&#x3D;2"');
  t.match(email.text, 'Hello Ann <script>alert(1)</script> & "Co",', 'plain text is not HTML: nothing to escape');
  t.match(email.text, 'https://shop.example.com/orders/42?a=1&b=2');
});

t.test('a line break in the data cannot add a header to the subject', async (t) => {
  const email = await renderEmail('invoice', { ...invoiceData, invoiceNumber: 'INV-1\r\nBcc: eve@example.com' });
  t.equal(email.subject, 'Your invoice INV-1 Bcc: eve@example.com for order #1042');
  t.notMatch(email.subject, /[\r\n]/);
});

t.test('the credit note and the failed payment render with their own data', async (t) => {
  const credit = await renderEmail('credit-note', { creditNoteNumber: 'CN-2026-000007', invoiceNumber: 'INV-2026-000123', total: '99.00 EUR', orderUrl: 'https://shop.example.com/orders/42' });
  t.equal(credit.subject, 'Credit note CN-2026-000007 for invoice INV-2026-000123');
  t.match(credit.text, 'Amount credited: 99.00 EUR');
  t.match(credit.html, 'CN-2026-000007');
  const failed = await renderEmail('payment-failed', { orderNumber: '1042', retryUrl: 'https://shop.example.com/orders/42/pay' });
  t.equal(failed.subject, 'The payment for order #1042 did not go through');
  t.match(failed.text, 'https://shop.example.com/orders/42/pay');
  t.match(failed.html, 'href="https://shop.example.com/orders/42/pay"');
});

t.test('a missing field is an error, not a blank in a customer\'s mail', async (t) => {
  const { invoiceNumber: _omitted, ...incomplete } = invoiceData;
  await t.rejects(renderEmail('invoice', incomplete), /invoiceNumber/);
});

t.test('a link that is not http(s) is refused', async (t) => {
  await t.rejects(renderEmail('payment-failed', { orderNumber: '1', retryUrl: 'javascript:alert(1)' }), /not an http\(s\) URL/);
});

t.test('an unknown template, or a name that is a path, is refused', async (t) => {
  await t.rejects(renderEmail('no-such-template', {}), { code: 'ENOENT' });
  await t.rejects(renderEmail('../layouts/main', {}), /not an e-mail template name/);
});

t.test('templates are compiled once: rendering again gives the same result', async (t) => {
  const [first, second] = await Promise.all([renderEmail('invoice', invoiceData), renderEmail('invoice', invoiceData)]);
  t.same(first, second);
});
