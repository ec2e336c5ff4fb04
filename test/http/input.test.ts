import t from 'tap';
import { HttpError } from '../../src/http/http-error.ts';
import {
  dayRange, FIRST_DAY, isoDay, LAST_DAY, MAX_VALUE_LENGTH, oneOf, problemWith, readForm, readQuery, rowId, shown, wholeNumber,
} from '../../src/http/input.ts';

/** The sentence of the 400 `run` throws, or a note that it did not. */
function refusal(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    if (error.statusCode !== 400) return `status ${error.statusCode}`;
    return error.message;
  }
}

t.test('problemWith: a value given twice, not text, too long, or with a control character is refused with a sentence', async (t) => {
  const cases: [string, unknown, string | undefined][] = [
    ['plain text', 'Ann Smith', undefined],
    ['accents, emoji and symbols', 'Zoë 🚚 & <b>', undefined],
    ['the longest allowed', 'x'.repeat(MAX_VALUE_LENGTH), undefined],
    ['one character too long', 'x'.repeat(MAX_VALUE_LENGTH + 1), `The parameter "q" is longer than ${MAX_VALUE_LENGTH} characters.`],
    ['given twice (an array)', ['a', 'b'], 'The parameter "q" is given more than once.'],
    ['not text (a JSON object)', { a: 1 }, 'The parameter "q" must be text.'],
    ['a number from JSON', 5, 'The parameter "q" must be text.'],
    ['a NUL', 'A\0B', 'The parameter "q" contains a control character (U+0000), which it may not: remove it and try again.'],
    ['a tab', 'a\tb', 'The parameter "q" contains a control character (U+0009), which it may not: remove it and try again.'],
    ['a newline', 'a\nb', 'The parameter "q" contains a control character (U+000A), which it may not: remove it and try again.'],
    ['a carriage return', 'a\rb', 'The parameter "q" contains a control character (U+000D), which it may not: remove it and try again.'],
    ['DEL', 'a\u007fb', 'The parameter "q" contains a control character (U+007F), which it may not: remove it and try again.'],
    ['a C1 control', 'a\u0085b', 'The parameter "q" contains a control character (U+0085), which it may not: remove it and try again.'],
    ['half a surrogate pair', 'a\ud800b', 'The parameter "q" contains a control character (U+D800), which it may not: remove it and try again.'],
  ];
  for (const [what, value, expected] of cases) t.equal(problemWith('parameter', 'q', value), expected, what);
  t.equal(problemWith('field', 'Name', 'A\0B'), 'The field "Name" contains a control character (U+0000), which it may not: remove it and try again.');
  t.equal(problemWith('field', 'x', 'abcdef', 5), 'The field "x" is longer than 5 characters.', 'a bound of its own');
});

t.test('shown quotes a value safely: control characters as U+XXXX, at most 40 characters', async (t) => {
  t.equal(shown('a\0b\r\n'), 'aU+0000bU+000DU+000A');
  t.equal(shown('x'.repeat(100)), `${'x'.repeat(40)}…`);
});

t.test('readQuery: known names only (or unknown ones ignored), each read once, trimmed, blank as absent', async (t) => {
  const value = readQuery({ from: ' 2026-03-01 ', q: '   ' }, ['from', 'to', 'q']);
  t.equal(value('from'), '2026-03-01');
  t.equal(value('q'), undefined, 'blank is absent');
  t.equal(value('to'), undefined);
  t.equal(refusal(() => readQuery({ colour: 'red' }, ['from', 'to'])), 'There is no parameter "colour"; use from or to.');
  t.equal(refusal(() => readQuery({ colour: 'red' }, ['from', 'to'], { page: ' on this page' })), 'There is no parameter "colour" on this page; use from or to.');
  t.equal(refusal(() => readQuery({ 'a\0': 'x' }, ['q'])), 'There is no parameter "aU+0000"; use q.', 'a hostile name is quoted safely');
  t.equal(readQuery({ utm_source: 'mail', q: 'mug' }, ['q'], { unknown: 'ignore' })('q'), 'mug', 'public pages ignore tracking tags');
  t.equal(refusal(() => readQuery({ q: ['a', 'b'] }, ['q'], { unknown: 'ignore' })), 'The parameter "q" is given more than once.');
  t.equal(refusal(() => readQuery({ q: 'a\0' }, ['q'])), 'The parameter "q" contains a control character (U+0000), which it may not: remove it and try again.');
  t.equal(readQuery(undefined, ['q'])('q'), undefined, 'no query string at all');
  t.equal(refusal(() => readForm({ email: ['a@b.c', 'd@e.f'] }, ['email'])), 'The field "email" is given more than once.');
  t.equal(readForm({ _csrf: 'token', email: 'a@b.c' }, ['email'])('email'), 'a@b.c', 'fields not asked for are not read');
});

t.test('isoDay: real days written YYYY-MM-DD, from 2000-01-01 to 2999-12-31', async (t) => {
  t.equal(FIRST_DAY, '2000-01-01');
  t.equal(LAST_DAY, '2999-12-31');
  const cases: [string, string][] = [
    ['2026-03-10', 'accepted'], ['2000-01-01', 'accepted'], ['2999-12-31', 'accepted'], ['2024-02-29', 'accepted'],
    ['1999-12-31', '"from" must be a date from 2000-01-01 to 2999-12-31, not 1999-12-31.'],
    ['3000-01-01', '"from" must be a date from 2000-01-01 to 2999-12-31, not 3000-01-01.'],
    ['0001-01-01', '"from" must be a date from 2000-01-01 to 2999-12-31, not 0001-01-01.'],
    ['9999-12-31', '"from" must be a date from 2000-01-01 to 2999-12-31, not 9999-12-31.'],
    ['0000-01-01', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "0000-01-01".'],
    ['2026-02-30', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "2026-02-30".'],
    ['2025-02-29', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "2025-02-29".'],
    ['+010000-01-01', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "+010000-01-01".'],
    ['2026-3-1', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "2026-3-1".'],
    ['2026-03-10T00:00', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "2026-03-10T00:00".'],
    ['２０２６-03-10', '"from" must be a date written YYYY-MM-DD, such as 2026-03-10, not "２０２６-03-10".'],
  ];
  for (const [text, expected] of cases) t.equal(refusal(() => isoDay('from', text)), expected, text);
  t.equal(isoDay('from', undefined), undefined);
});

t.test('dayRange: one end gives span days, cut at the calendar ends; the length is bounded', async (t) => {
  const rules = { span: 30, maxDays: 366, today: '2026-03-10', covers: 'a page covers' };
  t.same(dayRange(undefined, undefined, rules), { from: '2026-02-09', to: '2026-03-10' }, 'the last 30 days');
  t.same(dayRange('2026-03-01', undefined, rules), { from: '2026-03-01', to: '2026-03-30' });
  t.same(dayRange(undefined, '2026-03-01', rules), { from: '2026-01-31', to: '2026-03-01' });
  t.same(dayRange('2999-12-20', undefined, rules), { from: '2999-12-20', to: '2999-12-31' }, 'cut at the last day');
  t.same(dayRange(undefined, '2000-01-05', rules), { from: '2000-01-01', to: '2000-01-05' }, 'cut at the first day');
  t.same(dayRange('2024-01-01', '2024-12-31', rules), { from: '2024-01-01', to: '2024-12-31' }, 'a leap year');
  t.equal(refusal(() => dayRange('2024-01-01', '2025-01-01', rules)), 'The range 2024-01-01 to 2025-01-01 covers 367 days; a page covers at most 366.');
  t.equal(refusal(() => dayRange('2026-03-10', '2026-03-01', rules)), 'The range starts (2026-03-10) after it ends (2026-03-01): "from" must be on or before "to".');
  t.equal(refusal(() => dayRange('9999-12-20', '9999-12-31', rules)), '"from" must be a date from 2000-01-01 to 2999-12-31, not 9999-12-20.');
  t.equal(refusal(() => dayRange(undefined, '0001-01-01', rules)), '"to" must be a date from 2000-01-01 to 2999-12-31, not 0001-01-01.');
  t.equal(dayRange(undefined, undefined, { ...rules, today: undefined }), undefined, 'no today: no range');
});

t.test('wholeNumber, rowId, oneOf: bounded numbers, positive bigint ids, words from a list', async (t) => {
  const numbers: [string | undefined, string | number][] = [
    [undefined, 7], ['1', 1], ['500', 500], ['0', 'page must be a whole number from 1 to 500, not "0".'], ['501', 'page must be a whole number from 1 to 500, not "501".'],
    ['-1', 'page must be a whole number from 1 to 500, not "-1".'], ['1e3', 'page must be a whole number from 1 to 500, not "1e3".'],
    ['9999999999', 'page must be a whole number from 1 to 500, not "9999999999".'], ['1.5', 'page must be a whole number from 1 to 500, not "1.5".'],
  ];
  for (const [text, expected] of numbers) {
    let got: string | number;
    try { got = wholeNumber('page', text, 7, 1, 500); } catch (error) { got = (error as Error).message; }
    t.equal(got, expected, String(text));
  }
  const sentence = (text: string) => `"${text}" is not an id.`;
  const ids: [string, string][] = [
    ['1', '1'], ['007', '7'], ['9223372036854775807', '9223372036854775807'],
    ['0', '"0" is not an id.'], ['000', '"000" is not an id.'], ['9223372036854775808', '"9223372036854775808" is not an id.'],
    ['99999999999999999999', '"99999999999999999999" is not an id.'], ['-1', '"-1" is not an id.'], ['1a', '"1a" is not an id.'],
    ['', '"" is not an id.'], ['１', '"１" is not an id.'], ['1\0', '"1U+0000" is not an id.'],
  ];
  for (const [text, expected] of ids) {
    let got: string;
    try { got = rowId(text, sentence); } catch (error) { got = (error as Error).message; }
    t.equal(got, expected, JSON.stringify(text));
  }
  t.equal(oneOf('review', 'yes', ['yes', 'no'] as const), 'yes');
  t.equal(oneOf('review', undefined, ['yes', 'no'] as const), undefined);
  t.equal(refusal(() => oneOf('review', 'maybe', ['yes', 'no'] as const)), 'review must be one of yes or no, not "maybe".');
});
