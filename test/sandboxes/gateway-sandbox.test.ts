import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import t, { type Test } from 'tap';
import { gatewaySandboxClient, type GatewaySandboxClient } from '../../src/sandboxes/gateway/gateway-sandbox.client.ts';
import { startGatewaySandbox, type GatewaySandboxOptions } from '../../src/sandboxes/gateway/gateway-sandbox.ts';

const SECRET = 'whsec_test_gateway_sandbox_secret';

interface Received {
  event: Stripe.Event;
  body: string;
  signature: string;
  at: number;
}

/**
 * A shop's webhook endpoint in miniature: every delivery is checked with
 * stripe-node's own constructEvent on the raw bytes; it can be told to answer
 * 500 for a while.
 */
async function startReceiver(t: Test) {
  const received: Received[] = [];
  const refused: Array<{ status: number; body: string }> = [];
  const state = { failuresLeft: 0, answerAfterMs: 0, inFlight: 0, maxInFlight: 0 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
    response.on('close', () => state.inFlight--);
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => setTimeout(() => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(request.headers['stripe-signature'] ?? '');
      let event: Stripe.Event;
      try {
        event = Stripe.webhooks.constructEvent(body, signature, SECRET);
      } catch (error) {
        refused.push({ status: 400, body: (error as Error).message });
        response.writeHead(400).end();
        return;
      }
      if (state.failuresLeft > 0) {
        state.failuresLeft--;
        refused.push({ status: 500, body });
        response.writeHead(500).end('not now');
        return;
      }
      received.push({ event, body, signature, at: Date.now() });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    }, state.answerAfterMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    refused,
    failNext(count: number) {
      state.failuresLeft = count;
    },
    /** A slow endpoint: answers each delivery this much later. */
    answerAfter(ms: number) {
      state.answerAfterMs = ms;
    },
    maxInFlight: () => state.maxInFlight,
    types: () => received.map((item) => item.event.type),
    async waitFor(count: number, timeoutMs = 5000): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${received.length}: ${received.map((r) => r.event.type).join(', ')}`);
        await sleep(10);
      }
      return received;
    },
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

interface Harness {
  url: string;
  stripe: Stripe;
  gateway: GatewaySandboxClient;
  receiver: Receiver;
}

async function startHarness(t: Test, options: Partial<GatewaySandboxOptions> = {}): Promise<Harness> {
  const receiver = await startReceiver(t);
  const sandbox = await startGatewaySandbox({ webhookSecret: SECRET, webhookUrl: receiver.url, webhookRetryDelaysMs: [50, 100, 200], ...options });
  t.teardown(() => sandbox.close());
  return { url: sandbox.url, stripe: stripeFor(sandbox.url), gateway: gatewaySandboxClient(sandbox.url), receiver };
}

function stripeFor(url: string, key = 'sk_test_tanktop', config: { maxNetworkRetries?: number } = {}): Stripe {
  const { hostname, port } = new URL(url);
  return new Stripe(key, { host: hostname, port: Number(port), protocol: 'http', ...config });
}

function sessionParams(overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    line_items: [
      { price_data: { currency: 'eur', unit_amount: 1250, product_data: { name: 'Tank top <b>blue</b>' } }, quantity: 2 },
      { price_data: { currency: 'eur', unit_amount: 499, product_data: { name: 'Socks' } }, quantity: 1 },
    ],
    success_url: 'http://shop.test/orders/done?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://shop.test/cart',
    client_reference_id: 'order-42',
    customer_email: 'ada@example.com',
    metadata: { order_id: '42' },
    payment_intent_data: { metadata: { order_id: '42' } },
    ...overrides,
  };
}

/** Submits the hosted page's form with this label, as a browser would. */
async function pressButton(sessionUrl: string, label: 'Pay' | 'Decline'): Promise<Response> {
  const html = await (await fetch(sessionUrl)).text();
  const forms = [...html.matchAll(/<form method="post" action="([^"]+)"><button[^>]*>([^<]+)</g)];
  const form = forms.find(([, , text]) => (label === 'Pay' ? /\bpay\b/i.test(text ?? '') : (text ?? '').startsWith('Decline')));
  if (!form) throw new Error(`no ${label} button on the page`);
  return fetch(form[1] as string, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '', redirect: 'manual' });
}

/** A port nothing listens on (it did a moment ago). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error a promise rejects with (for its class and fields). */
async function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    return error as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

const intentOf = (session: Stripe.Checkout.Session) => session.payment_intent as Stripe.PaymentIntent;

t.test('a checkout session is created, retrieved and listed through the stripe package', async (t) => {
  const { url, stripe } = await startHarness(t);
  const before = Math.floor(Date.now() / 1000);
  const session = await stripe.checkout.sessions.create(sessionParams());
  t.match(session.id, /^cs_test_[A-Za-z0-9]{58}$/);
  t.equal(session.object, 'checkout.session');
  t.equal(session.url, `${url}/pay/${session.id}`);
  t.equal(session.status, 'open');
  t.equal(session.payment_status, 'unpaid');
  t.equal(session.amount_total, 2 * 1250 + 499);
  t.equal(session.currency, 'eur');
  t.equal(session.mode, 'payment');
  t.equal(session.client_reference_id, 'order-42');
  t.equal(session.customer_email, 'ada@example.com');
  t.same(session.metadata, { order_id: '42' });
  t.equal(session.payment_intent, null, 'the payment intent comes with the first attempt to pay');
  t.ok(session.expires_at >= before + 24 * 3600 && session.expires_at <= before + 24 * 3600 + 2, 'expires in 24 hours by default');
  t.equal(session.livemode, false);

  const retrieved = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
  t.equal(retrieved.id, session.id);
  t.same(retrieved.line_items?.data.map((item) => [item.description, item.quantity, item.amount_total]), [['Tank top <b>blue</b>', 2, 2500], ['Socks', 1, 499]]);

  const items = await stripe.checkout.sessions.listLineItems(session.id, { limit: 1 });
  t.same([items.data.map((item) => item.description), items.has_more], [['Tank top <b>blue</b>'], true], 'line items keep their order');

  const second = await stripe.checkout.sessions.create(sessionParams({ client_reference_id: 'order-43' }));
  const page = await stripe.checkout.sessions.list({ limit: 1 });
  t.same(page.data.map((s) => s.id), [second.id], 'newest first');
  t.equal(page.has_more, true);
  const all = [];
  for await (const listed of stripe.checkout.sessions.list({ limit: 1 })) all.push(listed.id);
  t.same(all, [second.id, session.id], 'auto-pagination walks every page');

  const missing = await rejection(stripe.checkout.sessions.retrieve('cs_test_nope'));
  t.ok(missing instanceof Stripe.errors.StripeInvalidRequestError);
  t.equal(missing.statusCode, 404);
  t.equal(missing.code, 'resource_missing');
});

t.test('a request the real Stripe would refuse is refused with its error, naming the parameter', async (t) => {
  const { stripe } = await startHarness(t);
  const unknown = await rejection(stripe.checkout.sessions.create({ ...sessionParams(), colour: 'red' } as Stripe.Checkout.SessionCreateParams));
  t.ok(unknown instanceof Stripe.errors.StripeInvalidRequestError);
  t.equal(unknown.code, 'parameter_unknown');
  t.equal((unknown as Stripe.errors.StripeInvalidRequestError).param, 'colour');

  const noQuantity = await rejection(stripe.checkout.sessions.create(sessionParams({
    line_items: [{ price_data: { currency: 'eur', unit_amount: 100, product_data: { name: 'x' } } }],
  })));
  t.equal(noQuantity.code, 'parameter_missing');
  t.equal((noQuantity as Stripe.errors.StripeInvalidRequestError).param, 'line_items[0][quantity]');

  const badExpand = await rejection(stripe.checkout.sessions.create(sessionParams({ expand: ['customer.nope'] })));
  t.equal((badExpand as Stripe.errors.StripeInvalidRequestError).param, 'expand');
  t.equal((await stripe.checkout.sessions.list()).data.length, 0, 'nothing was created by a refused request');

  const tooSoon = await rejection(stripe.checkout.sessions.create(sessionParams({ expires_at: Math.floor(Date.now() / 1000) + 60 })));
  t.equal((tooSoon as Stripe.errors.StripeInvalidRequestError).param, 'expires_at', 'under 30 minutes is refused unless the control API allows it');
});

t.test('paying on the hosted page redirects to success_url and sends signed events in order', async (t) => {
  const { stripe, receiver, gateway } = await startHarness(t);
  const session = await stripe.checkout.sessions.create(sessionParams());

  const page = await fetch(session.url as string);
  const html = await page.text();
  t.equal(page.status, 200);
  t.match(html, 'Payment sandbox — no real money');
  t.match(html, 'Tank top &lt;b&gt;blue&lt;/b&gt;', 'item names are escaped');
  t.notMatch(html, '<b>blue</b>');
  t.match(html, '€29.99', 'the total');

  const response = await pressButton(session.url as string, 'Pay');
  t.equal(response.status, 303);
  t.equal(response.headers.get('location'), `http://shop.test/orders/done?session=${session.id}`);

  const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
  t.equal(paid.status, 'complete');
  t.equal(paid.payment_status, 'paid');
  t.equal(paid.url, null);
  const intent = intentOf(paid);
  t.match(intent.id, /^pi_/);
  t.equal(intent.status, 'succeeded');
  t.equal(intent.amount, 2999);
  t.equal(intent.amount_received, 2999);
  t.same(intent.metadata, { order_id: '42' }, 'payment_intent_data[metadata] lands on the payment intent');
  t.match(intent.latest_charge, /^ch_/);
  const retrievedIntent = await stripe.paymentIntents.retrieve(intent.id);
  t.equal(retrievedIntent.status, 'succeeded');

  const [completed, succeeded] = await receiver.waitFor(2);
  t.same(receiver.types(), ['checkout.session.completed', 'payment_intent.succeeded']);
  t.equal(receiver.refused.length, 0, 'every signature verified');
  const event = completed?.event as Stripe.Event;
  t.match(event.id, /^evt_/);
  t.equal(event.object, 'event');
  t.equal(event.livemode, false);
  t.equal(event.pending_webhooks, 1);
  t.equal(event.api_version, Stripe.API_VERSION, "the account's version: that of its first request");
  t.same(event.request, { id: null, idempotency_key: null }, 'the customer acted, not an API call');
  const eventSession = event.data.object as Stripe.Checkout.Session;
  t.equal(eventSession.id, session.id);
  t.equal(eventSession.status, 'complete');
  t.equal(eventSession.payment_intent, intent.id);
  t.equal(eventSession.amount_total, 2999);
  t.match(completed?.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
  const forged = await rejection(Promise.resolve().then(() => Stripe.webhooks.constructEvent(completed?.body as string, completed?.signature as string, 'whsec_another')));
  t.ok(forged instanceof Stripe.errors.StripeSignatureVerificationError, 'another secret does not verify');
  t.equal((succeeded?.event.data.object as Stripe.PaymentIntent).id, intent.id);

  const fetched = await stripe.events.retrieve(event.id);
  t.equal(fetched.type, 'checkout.session.completed');
  t.equal(fetched.pending_webhooks, 0, 'delivered');
  const listed = await stripe.events.list({ type: 'payment_intent.*' });
  t.same(listed.data.map((e) => e.type), ['payment_intent.succeeded']);
  const bySession = await stripe.checkout.sessions.list({ payment_intent: intent.id });
  t.same(bySession.data.map((s) => s.id), [session.id], 'sessions can be found by payment intent');

  const again = await pressButton(session.url as string, 'Pay').catch((error: Error) => error);
  t.match(String(again), 'no Pay button', 'a paid session offers nothing more to pay');
  t.match(await (await fetch(session.url as string)).text(), 'This payment is complete');
  const events = await gateway.events();
  t.same(events.map((e) => [e.type, e.outcome, e.attempts.length]), [['checkout.session.completed', 'delivered', 1], ['payment_intent.succeeded', 'delivered', 1]]);
});

t.test('the hosted page and its forms use the public URL browsers know', async (t) => {
  const { url, stripe } = await startHarness(t, { publicUrl: 'http://pay.tanktop.test:8080/' });
  const session = await stripe.checkout.sessions.create(sessionParams());
  t.equal(session.url, `http://pay.tanktop.test:8080/pay/${session.id}`);
  const html = await (await fetch(`${url}/pay/${session.id}`)).text();
  t.match(html, `action="http://pay.tanktop.test:8080/pay/${session.id}/pay"`);
  t.equal((await fetch(`${url}/pay/cs_test_unknown`)).status, 404);
});

t.test('a declined card leaves the session open, the customer tries again and pays', async (t) => {
  const { stripe, receiver } = await startHarness(t);
  const session = await stripe.checkout.sessions.create(sessionParams());

  const declined = await pressButton(session.url as string, 'Decline');
  t.equal(declined.status, 303);
  t.equal(declined.headers.get('location'), session.url);
  const page = await (await fetch(session.url as string)).text();
  t.match(page, 'Your card was declined');
  t.match(page, 'href="http://shop.test/cart"', 'the customer can go back to the shop');

  const open = await stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
  t.equal(open.status, 'open');
  const failed = intentOf(open);
  t.equal(failed.status, 'requires_payment_method');
  t.equal(failed.last_payment_error?.code, 'card_declined');
  t.equal(failed.last_payment_error?.type, 'card_error');
  await receiver.waitFor(1);
  t.same(receiver.types(), ['payment_intent.payment_failed']);

  const paid = await pressButton(session.url as string, 'Pay');
  t.equal(paid.headers.get('location'), `http://shop.test/orders/done?session=${session.id}`);
  const intent = await stripe.paymentIntents.retrieve(failed.id);
  t.equal(intent.status, 'succeeded', 'the same payment intent succeeds');
  t.equal(intent.last_payment_error, null);
  await receiver.waitFor(3);
  t.same(receiver.types(), ['payment_intent.payment_failed', 'checkout.session.completed', 'payment_intent.succeeded']);
});

t.test('an open session expires through the API once; its page and the control API then refuse payment', async (t) => {
  const { stripe, receiver, gateway } = await startHarness(t);
  const session = await stripe.checkout.sessions.create(sessionParams());
  const expired = await stripe.checkout.sessions.expire(session.id);
  t.equal(expired.status, 'expired');
  t.equal(expired.url, null);
  const [event] = await receiver.waitFor(1);
  t.equal(event?.event.type, 'checkout.session.expired');
  t.match(event?.event.request?.id, /^req_/, 'caused by an API request');

  const twice = await rejection(stripe.checkout.sessions.expire(session.id));
  t.ok(twice instanceof Stripe.errors.StripeInvalidRequestError);
  t.equal(twice.statusCode, 400);
  t.match(await (await fetch(session.url as string)).text(), 'This checkout session has expired');
  const refused = await gateway.pay(session.id).catch((error: Error & { status: number }) => error);
  t.equal((refused as { status: number }).status, 409);
});

t.test('a session expires by itself at expires_at, and expire-now cancels what a declined attempt left', async (t) => {
  const { stripe, receiver, gateway } = await startHarness(t);
  await gateway.configure({ allowShortExpiry: true });
  const short = await stripe.checkout.sessions.create(sessionParams({ expires_at: Math.floor(Date.now() / 1000) + 1 }));
  await receiver.waitFor(1, 4000);
  t.same(receiver.types(), ['checkout.session.expired']);
  t.equal((await stripe.checkout.sessions.retrieve(short.id)).status, 'expired');

  const session = await stripe.checkout.sessions.create(sessionParams());
  await gateway.decline(session.id);
  const { session: after } = await gateway.expireNow(session.id);
  t.equal(after.status, 'expired');
  const intent = await stripe.paymentIntents.retrieve(after.payment_intent as string);
  t.equal(intent.status, 'canceled');
  await receiver.waitFor(4);
  t.same(receiver.types().slice(1), ['payment_intent.payment_failed', 'checkout.session.expired', 'payment_intent.canceled']);
});

t.test('a payment through the control API may charge another amount than the session asked', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  const session = await stripe.checkout.sessions.create(sessionParams());
  const result = await gateway.pay(session.id, { amount: 1000, currency: 'usd' });
  t.equal(result.outcome, 'paid');
  t.equal(result.payment_intent.amount_received, 1000);
  const [completed] = await receiver.waitFor(2);
  const object = completed?.event.data.object as Stripe.Checkout.Session;
  t.same([object.amount_total, object.currency], [1000, 'usd']);
});

t.test('refunds: part, then more than remains is refused, then the rest, then nothing is left', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  const session = await stripe.checkout.sessions.create(sessionParams());
  const { payment_intent: intent } = await gateway.pay(session.id);
  await receiver.waitFor(2);

  const part = await stripe.refunds.create({ payment_intent: intent.id, amount: 500, reason: 'requested_by_customer', metadata: { return_id: 'r1' } });
  t.match(part.id, /^re_/);
  t.same([part.status, part.amount, part.currency, part.payment_intent, part.reason], ['succeeded', 500, 'eur', intent.id, 'requested_by_customer']);
  t.same(part.metadata, { return_id: 'r1' });

  const tooMuch = await rejection(stripe.refunds.create({ payment_intent: intent.id, amount: 3000 }));
  t.ok(tooMuch instanceof Stripe.errors.StripeInvalidRequestError);
  t.equal(tooMuch.statusCode, 400);
  t.equal(tooMuch.message, 'Refund amount (€30.00) is greater than unrefunded amount on charge (€24.99)');

  const rest = await stripe.refunds.create({ payment_intent: intent.id });
  t.equal(rest.amount, 2499, 'no amount refunds what remains');
  const nothingLeft = await rejection(stripe.refunds.create({ payment_intent: intent.id, amount: 1 }));
  t.equal(nothingLeft.code, 'charge_already_refunded');

  t.equal((await stripe.refunds.retrieve(part.id)).amount, 500);
  const charge = await stripe.charges.retrieve(intent.latest_charge as string);
  t.same([charge.amount_refunded, charge.refunded], [2999, true]);
  const listed = await stripe.refunds.list({ payment_intent: intent.id });
  t.same(listed.data.map((r) => r.amount), [2499, 500]);
  await receiver.waitFor(6);
  t.same(receiver.types().slice(2), ['refund.created', 'charge.refunded', 'refund.created', 'charge.refunded']);

  const unpaid = await stripe.checkout.sessions.create(sessionParams());
  const { payment_intent: declined } = await gateway.decline(unpaid.id);
  const notPaid = await rejection(stripe.refunds.create({ payment_intent: declined.id }));
  t.equal(notPaid.statusCode, 400, 'a payment that did not succeed has nothing to refund');
});

t.test('an idempotency key replays the first response; with other parameters it is an idempotency error', async (t) => {
  const { stripe, gateway } = await startHarness(t);
  const first = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'order-42-checkout' });
  const replay = await stripe.checkout.sessions.create(sessionParams(), { idempotencyKey: 'order-42-checkout' });
  t.equal(replay.id, first.id, 'the same session, not a second one');
  t.equal((await stripe.checkout.sessions.list()).data.length, 1);

  const mismatch = await rejection(stripe.checkout.sessions.create(sessionParams({ client_reference_id: 'order-43' }), { idempotencyKey: 'order-42-checkout' }));
  t.ok(mismatch instanceof Stripe.errors.StripeIdempotencyError);
  t.equal(mismatch.statusCode, 400);

  const { payment_intent: intent } = await gateway.pay(first.id);
  const refund = await stripe.refunds.create({ payment_intent: intent.id, amount: 100 }, { idempotencyKey: 'refund-1' });
  const again = await stripe.refunds.create({ payment_intent: intent.id, amount: 100 }, { idempotencyKey: 'refund-1' });
  t.equal(again.id, refund.id);
  t.equal((await stripe.refunds.list()).data.length, 1, 'one refund, not two');

  const requests = await gateway.requests();
  const keyed = requests.filter((r) => r.idempotencyKey === 'order-42-checkout');
  t.same(keyed.map((r) => [r.method, r.path, r.status, r.replayed]), [
    ['POST', '/v1/checkout/sessions', 200, false],
    ['POST', '/v1/checkout/sessions', 200, true],
    ['POST', '/v1/checkout/sessions', 400, false],
  ]);
});

t.test('a missing or ill-formed API key is answered with Stripe\'s 401', async (t) => {
  const { url } = await startHarness(t);
  const noKey = await fetch(`${url}/v1/checkout/sessions`);
  t.equal(noKey.status, 401);
  const body = await noKey.json() as { error: { type: string; message: string } };
  t.equal(body.error.type, 'invalid_request_error');
  t.match(body.error.message, 'You did not provide an API key');

  const publishable = await rejection(stripeFor(url, 'pk_test_abc').checkout.sessions.list());
  t.ok(publishable instanceof Stripe.errors.StripeAuthenticationError);
  t.equal(publishable.statusCode, 401);
  const live = await rejection(stripeFor(url, 'sk_live_abcdef').checkout.sessions.list());
  t.ok(live instanceof Stripe.errors.StripeAuthenticationError);
  t.match(live.message, 'sk_live_**cdef');
});

t.test('deliveries go one at a time by default, and several at once when webhookConcurrency allows', async (t) => {
  for (const [concurrency, expected] of [[1, 1], [3, 3]] as const) {
    const { stripe, gateway, receiver } = await startHarness(t, { webhookConcurrency: concurrency });
    receiver.answerAfter(100);
    for (let i = 0; i < 3; i++) await stripe.checkout.sessions.expire((await stripe.checkout.sessions.create(sessionParams())).id);
    await receiver.waitFor(3);
    t.equal(receiver.maxInFlight(), expected, `at most ${expected} at once`);
    t.same((await gateway.events()).map((e) => e.outcome), ['delivered', 'delivered', 'delivered']);
  }
});

t.test('an endpoint subscribed to some event types receives only those; every event is still recorded', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t, { enabledEvents: ['checkout.session.completed', 'payment_intent.payment_failed'] });
  t.same((await gateway.settings()).enabledEvents, ['checkout.session.completed', 'payment_intent.payment_failed']);
  const session = await stripe.checkout.sessions.create(sessionParams());
  await gateway.decline(session.id);
  await gateway.pay(session.id);
  await receiver.waitFor(2);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(receiver.types(), ['payment_intent.payment_failed', 'checkout.session.completed'], 'payment_intent.succeeded is not sent');
  const recorded = await stripe.events.list({ type: 'payment_intent.succeeded' });
  t.equal(recorded.data.length, 1, 'the unsubscribed event exists at the gateway');
  t.equal(recorded.data[0]!.pending_webhooks, 0, 'and no endpoint waits for it');

  await gateway.configure({ enabledEvents: ['*'] });
  await stripe.checkout.sessions.expire((await stripe.checkout.sessions.create(sessionParams())).id);
  await receiver.waitFor(3);
  t.equal(receiver.types()[2], 'checkout.session.expired', "'*' subscribes to every type");

  for (const bad of [[], ['Checkout Completed'], 'checkout.session.completed', [42]]) {
    const refused = await gateway.configure({ enabledEvents: bad as string[] }).catch((error: unknown) => error);
    t.equal((refused as { status?: number }).status, 400, `${JSON.stringify(bad)} is refused`);
    t.match((refused as Error).message, 'enabledEvents must be a non-empty list of event types');
  }
  t.same((await gateway.settings()).enabledEvents, ['*'], 'a refused setting changes nothing');
});

t.test('fault declineNext declines the next payment even when the customer presses Pay', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  await gateway.addFaults({ declineNext: 1 });
  const session = await stripe.checkout.sessions.create(sessionParams());
  const first = await pressButton(session.url as string, 'Pay');
  t.equal(first.headers.get('location'), session.url, 'back to the page');
  t.match(await (await fetch(session.url as string)).text(), 'Your card was declined');
  t.equal((await gateway.faults()).declineNext, 0, 'used up');
  const second = await gateway.pay(session.id);
  t.equal(second.outcome, 'paid');
  await receiver.waitFor(3);
  t.same(receiver.types(), ['payment_intent.payment_failed', 'checkout.session.completed', 'payment_intent.succeeded']);
});

t.test('fault duplicateWebhooks delivers the next event twice', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  await gateway.addFaults({ duplicateWebhooks: 1 });
  const session = await stripe.checkout.sessions.create(sessionParams());
  await gateway.pay(session.id);
  await receiver.waitFor(3);
  await sleep(50);
  t.same(receiver.types(), ['checkout.session.completed', 'checkout.session.completed', 'payment_intent.succeeded']);
  t.equal(receiver.received[0]?.event.id, receiver.received[1]?.event.id, 'the same event');
  const [completed] = await gateway.events();
  t.same(completed?.attempts.map((a) => [a.copy, a.status]), [[1, 200], [2, 200]]);
});

t.test('fault reorderWebhooks holds the next events and delivers them newest first', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  await gateway.addFaults({ reorderWebhooks: 3 });
  const session = await stripe.checkout.sessions.create(sessionParams());
  await gateway.decline(session.id);
  await sleep(100);
  t.equal(receiver.received.length, 0, 'held');
  t.same((await gateway.events()).map((e) => e.outcome), ['held']);
  await gateway.pay(session.id);
  await receiver.waitFor(3);
  t.same(receiver.types(), ['payment_intent.succeeded', 'checkout.session.completed', 'payment_intent.payment_failed']);

  await gateway.addFaults({ reorderWebhooks: 5 });
  await stripe.checkout.sessions.expire((await stripe.checkout.sessions.create(sessionParams())).id);
  await sleep(50);
  t.equal(receiver.received.length, 3, 'the fourth is held');
  await gateway.resetFaults();
  await receiver.waitFor(4);
  t.equal(receiver.types()[3], 'checkout.session.expired', 'a reset sends what was held');
});

t.test('fault delayWebhooksMs holds every delivery back that long', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  await gateway.addFaults({ delayWebhooksMs: 400 });
  const session = await stripe.checkout.sessions.create(sessionParams());
  const paidAt = Date.now();
  await gateway.pay(session.id);
  await sleep(200);
  t.equal(receiver.received.length, 0, 'nothing yet');
  const [first] = await receiver.waitFor(2);
  t.ok((first?.at ?? 0) - paidAt >= 400, `delivered after ${(first?.at ?? 0) - paidAt} ms`);
  t.same(receiver.types(), ['checkout.session.completed', 'payment_intent.succeeded'], 'in order');
});

t.test('fault dropWebhooks loses the next event, recorded as dropped, until it is resent', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  await gateway.addFaults({ dropWebhooks: 1 });
  const session = await stripe.checkout.sessions.create(sessionParams());
  await gateway.pay(session.id);
  await receiver.waitFor(1);
  await sleep(100);
  t.same(receiver.types(), ['payment_intent.succeeded']);
  const events = await gateway.events();
  t.same(events.map((e) => [e.type, e.outcome, e.attempts.length]), [['checkout.session.completed', 'dropped', 0], ['payment_intent.succeeded', 'delivered', 1]]);

  const resent = await gateway.resend(events[0]?.id as string);
  t.equal(resent.id, events[0]?.id);
  await receiver.waitFor(2);
  t.equal(receiver.received[1]?.event.id, events[0]?.id, 'the same event, late');
  t.equal((await gateway.event(events[0]?.id as string)).outcome, 'delivered');
});

t.test('fault failApi answers the next matching calls with a 5xx that stripe-node raises as StripeAPIError', async (t) => {
  const { url, gateway } = await startHarness(t);
  const stripe = stripeFor(url, 'sk_test_tanktop', { maxNetworkRetries: 0 });
  await gateway.addFaults({ failApi: { count: 2, status: 503, path: '/v1/checkout/sessions' } });
  await stripe.refunds.list();
  const first = await rejection(stripe.checkout.sessions.create(sessionParams()));
  t.ok(first instanceof Stripe.errors.StripeAPIError);
  t.equal(first.statusCode, 503);
  t.equal((first.raw as { type?: string }).type, 'api_error');
  const second = await rejection(stripe.checkout.sessions.list());
  t.equal(second.statusCode, 503);
  const third = await stripe.checkout.sessions.create(sessionParams());
  t.equal(third.status, 'open', 'the fault is used up');
  const requests = await gateway.requests();
  t.same(requests.map((r) => [r.method, r.path, r.status]), [
    ['GET', '/v1/refunds', 200],
    ['POST', '/v1/checkout/sessions', 503],
    ['GET', '/v1/checkout/sessions', 503],
    ['POST', '/v1/checkout/sessions', 200],
  ]);

  await gateway.addFaults({ failApi: { count: 1, status: 500 } });
  const retrying = stripeFor(url, 'sk_test_tanktop', { maxNetworkRetries: 1 });
  const session = await retrying.checkout.sessions.create(sessionParams());
  t.equal(session.status, 'open', "stripe-node's retry gets through");
  const [failed, retried] = (await gateway.requests()).slice(-2);
  t.same([failed?.status, retried?.status], [500, 200]);
  t.equal(failed?.idempotencyKey, retried?.idempotencyKey, 'the retry carries the same idempotency key');
});

t.test('a webhook the receiver answered 500 is retried until accepted; one never accepted is given up', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  receiver.failNext(2);
  const session = await stripe.checkout.sessions.create(sessionParams());
  await stripe.checkout.sessions.expire(session.id);
  const [delivered] = await receiver.waitFor(1);
  t.equal(delivered?.event.type, 'checkout.session.expired');
  t.equal(receiver.refused.length, 2);
  const [report] = await gateway.events();
  t.equal(report?.outcome, 'delivered');
  t.same(report?.attempts.map((a) => [a.attempt, a.status]), [[1, 500], [2, 500], [3, 200]]);
  t.equal(receiver.refused[0]?.body, delivered?.body, 'the same bytes every time, signed afresh');

  receiver.failNext(100);
  await stripe.checkout.sessions.expire((await stripe.checkout.sessions.create(sessionParams())).id);
  const events = await gateway.waitForEvents((all) => all[1]?.outcome === 'failed');
  t.equal(events[1]?.attempts.length, 4, 'the first attempt and one per retry delay');
  t.equal((await stripe.events.retrieve(events[1]?.id as string)).pending_webhooks, 1);

  await gateway.configure({ webhookUrl: `http://127.0.0.1:${await closedPort()}/webhooks/stripe` });
  await stripe.checkout.sessions.expire((await stripe.checkout.sessions.create(sessionParams())).id);
  const unreachable = await gateway.waitForEvents((all) => all[2]?.outcome === 'failed');
  t.equal(unreachable[2]?.attempts[0]?.status, null);
  t.match(unreachable[2]?.attempts[0]?.error, /ECONNREFUSED|connect/);
});

t.test('the control API refuses a bad fault or setting and then changes nothing', async (t) => {
  const { gateway } = await startHarness(t);
  const negative = await gateway.addFaults({ declineNext: 2, dropWebhooks: -1 }).catch((error: unknown) => error);
  t.equal((negative as { status?: number }).status, 400);
  t.match((negative as Error).message, 'dropWebhooks must be a whole number');
  const unknown = await gateway.addFaults({ explode: 1 } as never).catch((error: unknown) => error);
  t.match((unknown as Error).message, 'Unknown fault: explode');
  const badStatus = await gateway.addFaults({ failApi: { count: 1, status: 404 as 500 } }).catch((error: unknown) => error);
  t.match((badStatus as Error).message, 'failApi.status must be 500, 502 or 503');
  t.same(await gateway.faults(), { declineNext: 0, duplicateWebhooks: 0, reorderWebhooks: 0, delayWebhooksMs: 0, dropWebhooks: 0, failApi: null });
  const badUrl = await gateway.configure({ webhookUrl: 'ftp://example.com/hook' }).catch((error: unknown) => error);
  t.equal((badUrl as { status?: number }).status, 400);
  t.match((await gateway.settings()).webhookUrl, /^http:\/\/127\.0\.0\.1:\d+\/webhooks\/stripe$/);
  const missing = await gateway.pay('cs_test_missing').catch((error: unknown) => error);
  t.equal((missing as { status?: number }).status, 404);
});

t.test('a list of webhook URLs spreads the deliveries round-robin, each event delivered once', async (t) => {
  const { stripe, gateway, receiver } = await startHarness(t);
  const second = await startReceiver(t);
  const settings = await gateway.configure({ webhookUrl: [receiver.url, second.url] });
  t.same(settings.webhookUrl, [receiver.url, second.url]);
  for (let i = 0; i < 4; i++) await stripe.checkout.sessions.expire((await stripe.checkout.sessions.create(sessionParams())).id);
  await gateway.waitForEvents((all) => all.length === 4 && all.every((event) => event.outcome === 'delivered'));
  t.equal(receiver.received.length, 2, 'half the deliveries to the first URL');
  t.equal(second.received.length, 2, 'half to the second');
  const ids = [...receiver.received, ...second.received].map((item) => item.event.id);
  t.equal(new Set(ids).size, 4, 'every event once');
  const empty = await gateway.configure({ webhookUrl: [] as string[] }).catch((error: unknown) => error);
  t.equal((empty as { status?: number }).status, 400, 'an empty list is refused');
});
