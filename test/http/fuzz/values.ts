import fc from 'fast-check';

/**
 * The values a fuzzed request is made of: text a person, a browser or an
 * attacker might send. Each generator mixes the plausible (so requests get
 * past the first check) with the hostile (so the checks are tested).
 */

/** Unicode, NUL and control characters, lone surrogates, and very long text. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 6 }), weight: 1 },
  { arbitrary: fc.tuple(fc.string({ minLength: 1, maxLength: 3 }), fc.string({ maxLength: 3 })).map(([a, b]) => `${a}\u0000${b}`), weight: 1 },
  { arbitrary: fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }), fc.integer({ min: 101, max: 20_000 })).map(([s, n]) => s.repeat(n)), weight: 1 },
  fc.constantFrom('', ' ', '\u0000', '\uFEFF', '\u202E', '😀', 'é', '\uD800', '%', '%00', '%zz', '..', '../..', '<script>', '"\'', '\\', '{{x}}', '=1+1', '__proto__', 'constructor'),
);

/** Whole numbers and things that look like them: huge, negative, fractional, exotic notation. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.double().map(String),
  fc.nat(1000).map(String),
  fc.constantFrom('0', '1', '-1', '-0', '00', '007', '1e3', '1e400', '0x10', '1_000', '١٢', '9'.repeat(18), '9'.repeat(19), '9'.repeat(40),
    '9223372036854775807', '9223372036854775808', '-9223372036854775809', 'NaN', 'Infinity', ' 1', '1 ', '+1', '1.0'),
);

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Calendar days: near the fixture's, anywhere from year 1, the far ends, and
 * malformed ones. `lastYear` bounds the far end (9999, or 9998 while the
 * calendar probe shows that year 9999 hangs the process).
 */
export function dateText(lastYear: number): fc.Arbitrary<string> {
  const min = Date.parse('0001-01-01T00:00:00Z');
  const max = Date.parse(`${String(lastYear).padStart(4, '0')}-12-31T00:00:00Z`);
  // The ends of the calendar Postgres and Date share, where a range's other end falls off.
  const ends = ['0001-01-01', '0001-01-02', '0001-01-15', '0001-01-29', '0001-01-30', '0001-02-01', '0001-12-31',
    `${lastYear}-12-01`, `${lastYear}-12-02`, `${lastYear}-12-20`, `${lastYear}-12-31`];
  const edges = ['1000-01-01', '1969-12-31', '1970-01-01', '2000-02-29', '2024-02-29', '2026-03-01', '2026-03-10', '2038-01-19', '2262-04-11', '5874897-12-31'];
  return fc.oneof(
    { arbitrary: fc.integer({ min: -400, max: 400 }).map((d) => isoDay(Date.UTC(2026, 2, 5) + d * DAY_MS)), weight: 4 },
    { arbitrary: fc.integer({ min, max }).map((ms) => isoDay(ms)), weight: 2 },
    { arbitrary: fc.constantFrom(...ends), weight: 6 },
    { arbitrary: fc.constantFrom(...edges), weight: 1 },
    {
      arbitrary: fc.constantFrom('2026-02-30', '2026-13-01', '2026-00-10', '2026-03-00', '0000-01-01', '0000-12-31', '+010000-01-01', '-000001-01-01',
        '2026-1-1', '2026/03/01', '20260301', '2026-03-01T00:00:00Z', ' 2026-03-01 ', '9999-99-99', '１９９９-01-01', '2026-03-01\u0000', 'today', ''),
      weight: 2,
    },
    { arbitrary: hostileText, weight: 1 },
  );
}

/** Where a sign-in might be asked to send the browser next: on this site, and the ways off it. */
export const nextText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('/', '/stats/customers', '/ops/orders?x=1', '//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)',
    '/\t/evil.example', '/\n/evil.example', '/\r/evil.example', '/\r\n/evil.example', '\t//evil.example', ' //evil.example', '/%2F/evil.example',
    '/\u0000/evil.example', '/\u3000/evil.example', '/\\/evil.example', '/.//evil.example', 'http:evil.example', '/@evil.example'),
  fc.tuple(fc.constantFrom('/', '/\t', '/\n'), fc.constantFrom('/', '\\'), fc.constantFrom('evil.example', 'evil.example/x', '')).map((parts) => parts.join('')),
  hostileText.map((text) => `/${text}`),
);

/** Text, numbers, dates or the sign-in's next: any value of any field. */
export function anyValue(lastYear: number): fc.Arbitrary<string> {
  return fc.oneof(hostileText, numberText, dateText(lastYear), nextText);
}

/** A key of a query or a form that no route reads, or one that means something to a JavaScript object. */
export const strangeKey: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'a[b]', 'a[]', 'from[]', 'q.x', ''),
);

/** encodeURIComponent that accepts lone surrogates (which browsers send as U+FFFD). */
export function encode(text: string): string {
  return encodeURIComponent(text.toWellFormed());
}
