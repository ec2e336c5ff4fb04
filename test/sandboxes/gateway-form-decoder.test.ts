import t from 'tap';
import { decodeForm, FormDecodeError } from '../../src/sandboxes/gateway/form-decoder.ts';

/** Plain objects, so the comparison sees values and not the prototype-free containers. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

t.test('bracket keys become nested objects and indexed arrays, as stripe-node writes them', async (t) => {
  const body = 'mode=payment&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=1250'
    + '&line_items[0][price_data][product_data][name]=Tank%20top&line_items[0][quantity]=2'
    + '&line_items[1][price_data][currency]=eur&line_items[1][quantity]=1&metadata[order_id]=42&expand[0]=payment_intent';
  t.same(plain(decodeForm(body)), {
    mode: 'payment',
    line_items: [
      { price_data: { currency: 'eur', unit_amount: '1250', product_data: { name: 'Tank top' } }, quantity: '2' },
      { price_data: { currency: 'eur' }, quantity: '1' },
    ],
    metadata: { order_id: '42' },
    expand: ['payment_intent'],
  });
});

t.test('percent-encoded brackets, plus signs and empty brackets decode like their plain forms', async (t) => {
  t.same(plain(decodeForm('expand%5B%5D=a&expand[]=b&name=Blue+tank+%26+co&empty=')), { expand: ['a', 'b'], name: 'Blue tank & co', empty: '' });
});

t.test('sparse and out-of-order indexes close their gaps in index order', async (t) => {
  t.same(plain(decodeForm('a[5]=five&a[0]=zero&a[2]=two')), { a: ['zero', 'two', 'five'] });
});

t.test('an empty body is an empty object', async (t) => {
  t.same(plain(decodeForm('')), {});
});

t.test('__proto__ is an ordinary key and pollutes nothing', async (t) => {
  const decoded = decodeForm('metadata[__proto__][polluted]=yes&__proto__[x]=1');
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(Object.getPrototypeOf(decoded), null);
  t.same(plain(decoded.metadata), { ['__proto__']: { polluted: 'yes' } });
});

t.test('conflicting, repeated and malformed parameters are refused naming the parameter', async (t) => {
  const cases: Array<[string, string]> = [
    ['a=1&a[b]=2', 'a[b]'],
    ['a[b]=2&a=1', 'a'],
    ['a[0]=1&a[x]=2', 'a[x]'],
    ['mode=payment&mode=setup', 'mode'],
    ['a[b=1', 'a[b'],
    ['[a]=1', '[a]'],
    ['a[1000]=x', 'a[1000]'],
    ['a=%E0%A4%A', 'a'],
    ['a[1][2][3][4][5][6][7][8]=deep', 'a[1][2][3][4][5][6][7][8]'],
  ];
  for (const [body, param] of cases) {
    const error = catchError(() => decodeForm(body));
    t.ok(error instanceof FormDecodeError, `${body} is refused`);
    t.equal((error as FormDecodeError | undefined)?.param, param, `${body} names ${param}`);
  }
});

function catchError(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  return undefined;
}
