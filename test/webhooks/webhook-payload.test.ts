import t from 'tap';
import { MAX_JSON_DEPTH, storableJsonText, storableText, toStorableJson } from '../../src/webhooks/storable-json.ts';
import { readWebhookPayload } from '../../src/webhooks/webhook-payload.ts';
import { freshDatabase } from '../helpers/database.ts';

t.test('what Postgres refuses in text and jsonb becomes U+FFFD, and Postgres takes the result', async (t) => {
  const { pool } = await freshDatabase(t, { poolSize: 1 });
  const hostile = { 'key\u0000': ['a\u0000b', '\ud800', 'x\udc00y', '\ud83d\ude00 stays'], n: Number.POSITIVE_INFINITY, ok: 'plain' };
  await t.rejects(pool.query(`select $1::jsonb`, [JSON.stringify(hostile)]), /unsupported Unicode escape sequence|surrogate/, 'jsonb refuses the JSON as JSON.stringify writes it');
  const { value, changed } = toStorableJson(hostile);
  t.equal(changed, true);
  t.same(value, { 'key\ufffd': ['a\ufffdb', '\ufffd', 'x\ufffdy', '\ud83d\ude00 stays'], n: null, ok: 'plain' }, 'a surrogate pair is a character and stays');
  const { rows: [row] } = await pool.query(`select $1::jsonb as payload, $2::text as text`, [storableJsonText(hostile), storableText('a\u0000b')]);
  t.same(row, { payload: value, text: 'a\ufffdb' });
  t.same(toStorableJson({ a: [1, 'two', null, true] }), { value: { a: [1, 'two', null, true] }, changed: false }, 'nothing to replace: a faithful copy');
});

t.test('a "__proto__" key stays a key, and nesting is bounded', async (t) => {
  const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const { value } = toStorableJson(parsed);
  t.same(Object.keys(value as object), ['__proto__', 'a']);
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(Object.getPrototypeOf(value), Object.prototype);
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  t.same(readWebhookPayload(Buffer.from(deep(MAX_JSON_DEPTH))), { ok: true, value: JSON.parse(deep(MAX_JSON_DEPTH)), faithful: true });
  t.same(readWebhookPayload(Buffer.from(deep(MAX_JSON_DEPTH + 1))), { ok: false, reason: `the body is nested deeper than ${MAX_JSON_DEPTH} levels` });
});

t.test('a body is read as UTF-8: invalid bytes are replaced and the copy marked unfaithful; not JSON is a reason', async (t) => {
  t.same(readWebhookPayload(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])), { ok: true, value: { a: '\ufffd' }, faithful: false });
  t.same(readWebhookPayload(Buffer.from('{"a": 12345678901234567890}')), { ok: true, value: { a: 12345678901234567000 }, faithful: false }, 'digits lost in parsing: the bytes are kept');
  t.same(readWebhookPayload(Buffer.from('nope')), { ok: false, reason: 'the body is not JSON' });
});
