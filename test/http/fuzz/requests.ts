import fc from 'fast-check';
import { fillPath, type RouteEntry } from './route-table.ts';
import { anyValue, dateText, encode, hostileText, nextText, numberText, strangeKey } from './values.ts';

/** What the fixture holds, so that some fuzzed requests name things that exist. */
export interface FuzzWorld {
  /** The latest year the date generator may reach (see the calendar probe). */
  lastYear: number;
  entityIds: string[];
  orderIds: string[];
  orderNumbers: string[];
  productIds: string[];
  invoiceIds: string[];
  emails: string[];
  queues: string[];
  flashes: string[];
  sortKeys: string[];
  paymentStates: string[];
  fulfilmentStates: string[];
  /** The key of an order's pages (what the app hands out). */
  keyOf(number: string): string;
  /** The sign-in that works. */
  user: { name: string; password: string };
  /** The webhook routes' body generators, by route URL: their bodies are signed by the test. */
  webhooks: ReadonlyMap<string, fc.Arbitrary<string | Buffer>>;
}

export type CsrfChoice = 'valid' | 'missing' | 'bogus';
export type SignatureChoice = 'valid' | 'missing' | 'forged' | 'rotated' | 'garbled';

export interface FuzzRequest {
  route: RouteEntry;
  method: string;
  /** Path and query, encoded as a client would send them. */
  url: string;
  signedIn: boolean;
  csrf: CsrfChoice;
  accept: string | undefined;
  body: FuzzBody | undefined;
  /** Webhook routes: how the body is signed, and how far from now its timestamp is. */
  signature: { choice: SignatureChoice; offsetSeconds: number } | undefined;
}

export type FuzzBody =
  | { kind: 'form'; pairs: [string, string][] }
  | { kind: 'json'; value: Record<string, unknown> }
  | { kind: 'raw'; contentType: string | undefined; payload: string | Buffer };

/** `arbitrary` one time in `n`, else null (fc.option's freq is the other way round: null one time in freq). */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, n: number) => fc.oneof({ arbitrary: fc.constant(null), weight: n - 1 }, { arbitrary, weight: 1 });

const plausibly = <T>(plausible: fc.Arbitrary<T>, other: fc.Arbitrary<T>) => fc.oneof({ arbitrary: plausible, weight: 3 }, { arbitrary: other, weight: 1 });

function pick(values: readonly string[]): fc.Arbitrary<string> {
  return values.length ? fc.constantFrom(...values) : fc.constant('');
}

const QUERY_KEYS = ['from', 'to', 'q', 'sort', 'dir', 'page', 'per_page', 'view', 'next', 'key', 'session_id', 'ref', 'done', 'queue',
  'payment', 'fulfilment', 'review', 'before', 'after'] as const;

function queryValue(world: FuzzWorld, key: string): fc.Arbitrary<string> {
  const any = anyValue(world.lastYear);
  switch (key) {
    case 'from': case 'to': return dateText(world.lastYear);
    case 'page': case 'per_page': case 'before': case 'after': return plausibly(fc.oneof(numberText, pick(world.orderIds)), any);
    case 'view': return plausibly(fc.constantFrom('table', 'pivot'), any);
    case 'sort': return plausibly(pick(world.sortKeys), any);
    case 'dir': return plausibly(fc.constantFrom('asc', 'desc'), any);
    case 'done': return plausibly(pick(world.flashes), any);
    case 'queue': return plausibly(pick(world.queues), any);
    case 'payment': return plausibly(pick(world.paymentStates), any);
    case 'fulfilment': return plausibly(pick(world.fulfilmentStates), any);
    case 'review': return plausibly(fc.constantFrom('yes', 'no'), any);
    case 'key': return plausibly(pick(world.orderNumbers.map(world.keyOf)), any);
    case 'next': return nextText;
    default: return any;
  }
}

// The dates and the search are where the trouble has been: from, to and q come up most.
const queryPair = (world: FuzzWorld): fc.Arbitrary<[string, string]> =>
  fc.oneof({ arbitrary: fc.constantFrom('from', 'to', 'q'), weight: 8 }, { arbitrary: fc.constantFrom(...QUERY_KEYS), weight: 8 }, { arbitrary: strangeKey, weight: 1 })
    .chain((key) => queryValue(world, key).map((value): [string, string] => [key, value]));

/** A query string: a few parameters (repeats allowed), encoded, sometimes with raw oddities after them. */
function queryString(world: FuzzWorld): fc.Arbitrary<string> {
  const date = dateText(world.lastYear);
  // Half the time only a range, one end or both: the pages that take no other parameter get past their first check.
  const range = fc.record({ from: fc.option(date, { freq: 2 }), to: fc.option(date, { freq: 2 }) })
    .map(({ from, to }) => [...(from === null ? [] : [['from', from]]), ...(to === null ? [] : [['to', to]])] as [string, string][]);
  return fc.tuple(
    fc.oneof(range, fc.array(queryPair(world), { maxLength: 3 })),
    rarely(fc.constantFrom('&', '&&', '=', '==', '%', '%zz', '&=x', '+', 'from', 'to=', '%00', '#frag', '?'), 8),
  ).map(([pairs, raw]) => {
    const encoded = pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
    const text = raw === null ? encoded : encoded ? `${encoded}&${raw}` : raw;
    return text ? `?${text}` : '';
  });
}

function paramValue(world: FuzzWorld, name: string): fc.Arbitrary<string> {
  const plausible = (() => {
    switch (name) {
      case 'id': return fc.oneof(pick(world.entityIds), pick(world.invoiceIds), numberText);
      case 'number': return fc.oneof(pick(world.orderNumbers), pick(world.orderNumbers).map((n) => n.toLowerCase()), fc.constant('TT-0000-0000'));
      case 'ref': return fc.oneof(pick(world.orderIds), pick(world.orderNumbers), numberText);
      case '*': return fc.constantFrom('style.css', 'missing.css', '', '.', '../package.json', '..%2fpackage.json');
      default: return numberText;
    }
  })();
  const value = plausibly(plausible, fc.oneof(hostileText, numberText, dateText(world.lastYear)));
  // A `.csv` on the end is how a drill-down page is downloaded.
  return fc.tuple(value, fc.constantFrom(false, false, false, true), rarely(fc.constantFrom('%', '%zz', '%00', '..', '%2e%2e', '%2F', 'a%2Fb', '%C0%AF', '%E2%80%AE'), 10))
    .map(([text, csv, raw]) => raw ?? encode(csv ? `${text}.csv` : text));
}

/** Every field any form of the app has, with the values that get a form past its first check. */
function formField(world: FuzzWorld, name: string): fc.Arbitrary<string> {
  const any = anyValue(world.lastYear);
  switch (name) {
    case 'name': return plausibly(fc.constantFrom(world.user.name, 'Ann Buyer'), any);
    case 'password': return plausibly(fc.constant(world.user.password), any);
    case 'next': return nextText;
    case 'email': return plausibly(pick(world.emails), any);
    case 'country': return plausibly(fc.constantFrom('GB', 'DE', 'gb', 'XX'), any);
    case 'queue': return plausibly(pick(world.queues), any);
    case 'job': return plausibly(fc.uuid(), any);
    case 'q': return hostileText;
    case 'line1': case 'city': case 'postal_code': return plausibly(fc.constantFrom('1 High Street', 'Leeds', 'LS1 1AA'), any);
    default:
      if (name.startsWith('qty_')) return plausibly(fc.constantFrom('1', '2', '99', '100', '0', '-1', '1e3', '01'), any);
      return any;
  }
}

const FORM_FIELDS = ['name', 'password', 'next', 'email', 'line1', 'line2', 'postal_code', 'city', 'country', 'referral_code', 'q', 'queue', 'job'];

function formPairs(world: FuzzWorld): fc.Arbitrary<[string, string][]> {
  const names = [...FORM_FIELDS, ...world.productIds.map((id) => `qty_${id}`)];
  const field = (name: string) => formField(world, name).map((value): [string, string] => [name, value]);
  const complete = fc.tuple(...names.map(field)).chain((pairs) => fc.subarray(pairs, { minLength: Math.min(3, pairs.length) }));
  const loose = fc.array(fc.oneof(fc.constantFrom(...names), strangeKey, fc.string({ maxLength: 8 }).map((s) => `qty_${s}`)).chain(field), { maxLength: 6 });
  return fc.tuple(fc.oneof({ arbitrary: complete, weight: 3 }, { arbitrary: loose, weight: 1 }), fc.array(fc.constantFrom(...names).chain(field), { maxLength: 2 }))
    .map(([pairs, repeated]) => [...pairs, ...repeated]);
}

function body(world: FuzzWorld): fc.Arbitrary<FuzzBody | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: formPairs(world).map((pairs): FuzzBody => ({ kind: 'form', pairs })), weight: 5 },
    {
      arbitrary: formPairs(world).chain((pairs) => fc.dictionary(strangeKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
        .map((extra): FuzzBody => ({ kind: 'json', value: { ...Object.fromEntries(pairs), ...extra } }))),
      weight: 1,
    },
    { arbitrary: rawBody(), weight: 1 },
  );
}

/** Bodies no form sends: bytes, broken JSON, a form in a strange encoding, a type nobody parses. */
export function rawBody(): fc.Arbitrary<FuzzBody> {
  return fc.record({
    contentType: fc.constantFrom(undefined, 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream',
      'multipart/form-data', 'application/json; charset=latin1', 'application/x-www-form-urlencoded; charset=utf-16', 'text/html', ';', 'application/json\u0000'),
    payload: fc.oneof(
      hostileText,
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
      fc.constantFrom('{', '{"a":', '[]', 'null', '"x"', '1e999', '{"__proto__":{"x":1}}', '%', 'a=%zz', '_csrf=&_csrf=', 'a'.repeat(2_000_000)),
    ),
  }).map((raw): FuzzBody => ({ kind: 'raw', ...raw }));
}

/** A request to one route: its path parameters, a query, sign-in or not, and for a POST a body (signed, for a webhook). */
export function requestTo(route: RouteEntry, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const webhookBody = world.webhooks.get(route.url);
  const isPost = route.method === 'POST';
  return fc.record({
    params: fc.tuple(...route.params.map((name) => paramValue(world, name))),
    query: queryString(world),
    signedIn: fc.constantFrom(true, true, false),
    csrf: fc.constantFrom<CsrfChoice>('valid', 'valid', 'valid', 'missing', 'bogus'),
    accept: fc.constantFrom(undefined, 'text/html', 'application/json', '*/*', 'text/csv'),
    body: webhookBody ? webhookBody.map((payload): FuzzBody => ({ kind: 'raw', contentType: 'application/json; charset=utf-8', payload }))
      : isPost ? body(world) : fc.constant(undefined),
    signature: webhookBody ? fc.record({ choice: fc.constantFrom<SignatureChoice>('valid', 'valid', 'valid', 'valid', 'missing', 'forged', 'rotated', 'garbled'), offsetSeconds: signatureOffset }) : fc.constant(undefined),
  }).map(({ params, query, ...rest }) => {
    const request: FuzzRequest = { route, method: route.method, url: fillPath(route, params) + query, ...rest };
    return Object.assign(request, { [fc.toStringMethod]: () => describe(request) });
  });
}

/** Seconds between a webhook's signed timestamp and now: mostly inside the 300 s window, sometimes well outside it, either way. */
export const signatureOffset: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: -290, max: 290 }), weight: 6 },
  { arbitrary: fc.integer({ min: 310, max: 10_000_000 }), weight: 1 },
  { arbitrary: fc.integer({ min: -10_000_000, max: -310 }), weight: 1 },
  { arbitrary: fc.constantFrom(-1_000_000_000_000, 1_000_000_000_000, 86_400 * 365 * 100), weight: 1 },
);

/** A request as a line a person can replay by hand (fast-check prints counterexamples with it). */
export function describe(request: FuzzRequest): string {
  const parts = [`${request.method} ${request.url}`, request.signedIn ? 'signed in' : 'not signed in', `csrf ${request.csrf}`];
  if (request.accept) parts.push(`accept ${request.accept}`);
  const body = request.body;
  if (body?.kind === 'form') parts.push(`form ${JSON.stringify(body.pairs)}`);
  if (body?.kind === 'json') parts.push(`json ${JSON.stringify(body.value)}`);
  if (body?.kind === 'raw') {
    const text = Buffer.isBuffer(body.payload) ? `bytes ${body.payload.toString('hex').slice(0, 400)}` : JSON.stringify(body.payload.length > 400 ? `${body.payload.slice(0, 400)}…(${body.payload.length} chars)` : body.payload);
    parts.push(`${body.contentType ?? 'no content-type'} ${text}`);
  }
  if (request.signature) parts.push(`signature ${request.signature.choice}, t = now ${request.signature.offsetSeconds >= 0 ? '+' : ''}${request.signature.offsetSeconds} s`);
  return parts.join('; ');
}
