import t from 'tap';
import { issueInvoice, storeInvoicePdf } from '../../src/orders/invoices.repository.ts';
import { transitionFulfilment, transitionPayment } from '../../src/orders/order-state-machine.ts';
import { problemOf, shop, unescapeHtml, type Shop } from './shop-harness.ts';

const REFRESH = '<meta http-equiv="refresh" content="2">';

function stateOf(html: string): { state?: string; label?: string } {
  const match = /<section class="order-state" data-payment-state="([a-z_]+)"[^>]*>\s*<h2>([^<]*)<\/h2>/.exec(html);
  return { state: match?.[1], label: match?.[2] && unescapeHtml(match[2]) };
}

async function orderPage(s: Shop, number: string) {
  const { response } = await s.get(s.access.orderPath(number));
  if (response.statusCode !== 200) throw new Error(`the page of ${number} answered ${response.statusCode}`);
  return unescapeHtml(response.body);
}

/** Issues and commits an invoice or credit note; its number is given at commit. */
async function issue(s: Shop, orderId: string, kind: 'invoice' | 'credit_note') {
  const { id } = await s.db.transaction().execute((trx) => issueInvoice(trx, { orderId, kind, seller: { name: 'Tanktop Ltd', address: ['1 Example Street'] }, reason: 'refunded' }));
  const { number } = await s.db.selectFrom('invoices').select('number').where('id', '=', id).executeTakeFirstOrThrow();
  return { id, number };
}

t.test('the gateway\'s success return opens the order page, which shows the order and refreshes itself while the payment is on its way', async (t) => {
  const s = await shop(t);
  const order = await s.placeOrder({ [s.products.mug]: '2', [s.products.tent]: '1' });
  // A browser without the shop's cookie (the payment finished on another tab's session, say): the session id is enough.
  const back = await s.get(`/orders/${order.number}/thanks?session_id=${order.sessionId}`);
  t.equal(back.response.statusCode, 303);
  t.equal(back.response.headers.location, s.access.orderPath(order.number));
  t.match(back.cookie, /tanktop_orders=/, 'and the browser now remembers the order');

  const { response } = await s.get(back.response.headers.location as string);
  t.equal(response.statusCode, 200);
  const html = unescapeHtml(response.body);
  t.same(stateOf(html), { state: 'pending_payment', label: 'Waiting for your payment' });
  t.match(html, REFRESH, 'reloads itself until the payment arrives');
  t.match(html, /<td>Mug<\/td><td class="num">2<\/td><td class="num">12.50 EUR<\/td><td class="num">25.00 EUR<\/td>/);
  t.match(html, /<td>Tent<\/td><td class="num">1<\/td><td class="num">1,234.50 EUR<\/td><td class="num">1,234.50 EUR<\/td>/);
  t.match(html, '<td class="num" data-total>1,259.50 EUR</td>');
  t.match(html, `href="${order.location}"`, 'a link back to the open payment page');
  t.match(html, '<dd data-fulfilment>Starts once the order is paid</dd>');
  t.notMatch(html, 'Try again');
  t.equal(response.headers['cache-control'], 'no-store');
  t.equal(response.headers['referrer-policy'], 'no-referrer', 'the key in the address does not leak to the gateway');
});

t.test('processing, paid, invoice being prepared, invoice ready, shipped: each state in words, refreshing only while news is expected', async (t) => {
  const s = await shop(t);
  const { number, orderId } = await s.placeOrder({ [s.products.mug]: '1' });

  await transitionPayment(s.db, { orderId, to: 'payment_processing', reason: 'payment processing' });
  let html = await orderPage(s, number);
  t.same(stateOf(html), { state: 'payment_processing', label: 'Payment processing' });
  t.match(html, REFRESH);

  await transitionPayment(s.db, { orderId, to: 'paid', reason: 'paid' });
  html = await orderPage(s, number);
  t.same(stateOf(html), { state: 'paid', label: 'Paid' });
  t.match(html, REFRESH, 'paid, but the invoice is still to come');
  t.match(html, '<dd data-fulfilment>Not sent yet</dd>');
  t.notMatch(html, 'Documents');

  const invoice = await issue(s, orderId, 'invoice');
  html = await orderPage(s, number);
  t.match(html, `Invoice ${invoice.number} of`);
  t.match(html, 'the PDF is being prepared.');
  t.match(html, REFRESH);

  await storeInvoicePdf(s.db, invoice.id, Buffer.from('%PDF-1.4 test'));
  html = await orderPage(s, number);
  t.match(html, `<a href="${s.access.orderPath(number, '/invoice.pdf')}" download>Download the PDF</a>`);
  t.notMatch(html, REFRESH, 'nothing more to wait for');

  await transitionFulfilment(s.db, { orderId, to: 'submitted', reason: 'sent' });
  await transitionFulfilment(s.db, { orderId, to: 'in_production', reason: 'accepted' });
  await transitionFulfilment(s.db, { orderId, to: 'shipped', reason: 'shipped' });
  t.match(await orderPage(s, number), '<dd data-fulfilment>Shipped</dd>');
});

t.test('an order flagged for review says a person is looking at it, and does not refresh', async (t) => {
  const s = await shop(t);
  const { number, orderId } = await s.placeOrder({ [s.products.mug]: '1' });
  await s.pool.query(`update orders set needs_review = true, review_reason = 'amount differs' where id = $1`, [orderId]);
  const html = await orderPage(s, number);
  t.match(html, 'We are checking your payment by hand and will write to you at ann@example.com.');
  t.notMatch(html, REFRESH);
  t.notMatch(html, 'amount differs', 'the internal reason stays internal');
});

t.test('a declined payment shows the gateway\'s sentence and a Try again button, which opens a new payment page', async (t) => {
  const s = await shop(t);
  const first = await s.placeOrder({ [s.products.sticker]: '3' });
  await s.gateway.decline(first.sessionId);
  // What the webhook's job records for payment_intent.payment_failed (stripe-events.ts).
  await transitionPayment(s.db, { orderId: first.orderId, to: 'payment_failed', reason: 'payment failed: Your card was declined.' });

  const page = await s.get(s.access.orderPath(first.number), first.cookie);
  const html = unescapeHtml(page.response.body);
  t.same(stateOf(html), { state: 'payment_failed', label: 'Payment not completed' });
  t.match(html, '<p class="problem" role="alert" data-failure>Your card was declined.</p>');
  t.match(html, `<form method="post" action="${s.access.orderPath(first.number, '/retry')}">`);
  t.match(html, '<button type="submit">Try again</button>');
  t.notMatch(html, REFRESH, 'nothing happens until the customer acts');

  const retry = await s.post(s.access.orderPath(first.number, '/retry'), {}, { cookie: page.cookie, formPage: s.access.orderPath(first.number) });
  t.equal(retry.response.statusCode, 303);
  const location = retry.response.headers.location as string;
  t.match(location, new RegExp(`^${s.gatewayUrl}/pay/cs_test_`));
  t.not(location, first.location, 'a new payment page');
  const { rows: [order] } = await s.pool.query(`select payment_state, checkout_session_id, payment_attempts from orders where id = $1`, [first.orderId]);
  t.match(order, { payment_state: 'pending_payment', payment_attempts: 2 });
  t.not(order.checkout_session_id, first.sessionId);
  t.match(await (await fetch(first.location)).text(), 'Checkout expired', 'the old payment page cannot be paid any more');
  t.same(stateOf(await orderPage(s, first.number)).state, 'pending_payment');
});

t.test('Try again on an order that cannot be paid again (paid meanwhile) is a 409 with the order page and a sentence', async (t) => {
  const s = await shop(t);
  const { number, orderId } = await s.placeOrder({ [s.products.mug]: '1' });
  await transitionPayment(s.db, { orderId, to: 'payment_failed', reason: 'payment failed: Your card was declined.' });
  // The button was on the page; the customer paid on the still open payment page in another tab before pressing it.
  await transitionPayment(s.db, { orderId, to: 'paid', reason: 'paid' });
  const retry = await s.post(s.access.orderPath(number, '/retry'), {}, { formPage: '/shop' });
  t.equal(retry.response.statusCode, 409);
  t.equal(problemOf(retry.response.body), `Order ${number} is paid: it cannot be paid again.`);
  t.same(stateOf(unescapeHtml(retry.response.body)).state, 'paid');
});

t.test('a failure that is ours (the payment page could not be created) gets a plain sentence, not the internal reason', async (t) => {
  const s = await shop(t);
  const { number, orderId } = await s.placeOrder({ [s.products.mug]: '1' });
  await transitionPayment(s.db, { orderId, to: 'payment_failed', reason: 'checkout session not created: connect ECONNREFUSED 127.0.0.1:1' });
  const html = await orderPage(s, number);
  t.match(html, 'data-failure>We could not reach the payment service.</p>');
  t.notMatch(html, 'ECONNREFUSED');
});

t.test('an expired order says so, offers no payment, and stops refreshing', async (t) => {
  const s = await shop(t);
  const { number, orderId } = await s.placeOrder({ [s.products.mug]: '1' });
  await transitionPayment(s.db, { orderId, to: 'expired', reason: 'checkout session expired' });
  const html = await orderPage(s, number);
  t.same(stateOf(html), { state: 'expired', label: 'Expired' });
  t.match(html, 'This order expired before it was paid; nothing was charged.');
  t.notMatch(html, 'Try again');
  t.notMatch(html, 'Continue to the payment page');
  t.notMatch(html, REFRESH);
});

t.test('the invoice download is a 404 with a sentence until the PDF exists, then the stored PDF as an attachment', async (t) => {
  const s = await shop(t);
  const { number, orderId } = await s.placeOrder({ [s.products.mug]: '1' });
  const url = s.access.orderPath(number, '/invoice.pdf');

  let download = (await s.get(url)).response;
  t.equal(download.statusCode, 404, 'no invoice yet');
  t.equal(problemOf(download.body), `Order ${number} has no invoice yet: it is issued once the order is paid.`);

  await transitionPayment(s.db, { orderId, to: 'paid', reason: 'paid' });
  const invoice = await issue(s, orderId, 'invoice');
  download = (await s.get(url)).response;
  t.equal(download.statusCode, 404, 'issued, not rendered yet');
  t.equal(problemOf(download.body), `The invoice of order ${number} is being prepared: try again in a minute.`);

  const pdf = Buffer.from('%PDF-1.4\n% a stand-in for the rendered invoice\n');
  await storeInvoicePdf(s.db, invoice.id, pdf);
  download = (await s.get(url)).response;
  t.equal(download.statusCode, 200);
  t.equal(download.headers['content-type'], 'application/pdf');
  t.equal(download.headers['content-disposition'], `attachment; filename="${invoice.number}.pdf"`);
  t.same(download.rawPayload, pdf, 'the stored bytes');

  const creditNoteUrl = s.access.orderPath(number, '/credit-note.pdf');
  t.equal((await s.get(creditNoteUrl)).response.statusCode, 404, 'no credit note');
  await transitionPayment(s.db, { orderId, to: 'refunded', reason: 'refunded' });
  const creditNote = await issue(s, orderId, 'credit_note');
  await storeInvoicePdf(s.db, creditNote.id, pdf);
  const credit = (await s.get(creditNoteUrl)).response;
  t.equal(credit.statusCode, 200);
  t.equal(credit.headers['content-disposition'], `attachment; filename="${creditNote.number}.pdf"`);
  const html = await orderPage(s, number);
  t.same(stateOf(html), { state: 'refunded', label: 'Refunded' });
  t.match(html, `Credit note ${creditNote.number} of`);
});
