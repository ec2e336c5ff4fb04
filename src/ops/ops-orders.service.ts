import type { Db } from '../db/kysely.ts';
import { FULFILMENT_STATES, PAYMENT_STATES } from '../orders/order-states.ts';
import { formatCount } from '../stats/format.ts';
import { money, when, words } from './ops-format.ts';
import { countOrders, listOrders } from './ops-orders.repository.ts';
import { orderListLink, type OrderListQuery } from './ops-query.ts';

/** The orders list: counts per state, filters, one page of orders. */
export async function orderListPage(db: Db, query: OrderListQuery) {
  const [{ rows, more }, counts] = await Promise.all([listOrders(db, query), countOrders(db, query)]);
  const sum = (pick: (c: (typeof counts)[number]) => boolean) => counts.filter(pick).reduce((n, c) => n + BigInt(c.n), 0n);
  const facet = <T extends string>(states: readonly T[], key: 'payment' | 'fulfilment', column: 'payment_state' | 'fulfilment_state') =>
    states.map((state) => ({
      state, label: words(state), count: formatCount(sum((c) => c[column] === state).toString()),
      href: orderListLink(query, { [key]: query[key] === state ? undefined : state }),
      current: query[key] === state,
    }));
  const newest = rows[0];
  const oldest = rows.at(-1);
  // Going back (after=…), the page read forwards: "more" says there are newer ones.
  const hasNewer = query.after !== undefined ? more : query.before !== undefined;
  const hasOlder = query.after !== undefined ? true : more;
  return {
    title: 'Orders',
    heading: 'Orders',
    filters: {
      payment: [{ value: '', label: 'any', selected: !query.payment }, ...PAYMENT_STATES.map((s) => ({ value: s, label: words(s), selected: query.payment === s }))],
      fulfilment: [{ value: '', label: 'any', selected: !query.fulfilment }, ...FULFILMENT_STATES.map((s) => ({ value: s, label: words(s), selected: query.fulfilment === s }))],
      review: [
        { value: '', label: 'any', selected: query.review === undefined },
        { value: 'yes', label: 'needs review', selected: query.review === true },
        { value: 'no', label: 'no review needed', selected: query.review === false },
      ],
      from: query.from ?? '', to: query.to ?? '', q: query.q ?? '', perPage: query.perPage,
    },
    counts: {
      total: formatCount(sum(() => true).toString()),
      allHref: orderListLink(query, { payment: undefined, fulfilment: undefined, review: undefined }),
      payment: facet(PAYMENT_STATES, 'payment', 'payment_state'),
      fulfilment: facet(FULFILMENT_STATES, 'fulfilment', 'fulfilment_state'),
      review: {
        count: formatCount(sum((c) => c.needs_review).toString()),
        href: orderListLink(query, { review: query.review === true ? undefined : true }),
        current: query.review === true,
      },
    },
    range: query.from ? `created ${query.from} to ${query.to}` : 'all dates',
    rows: rows.map((row) => ({
      id: row.id, number: row.number, href: `/ops/orders/${row.id}`,
      created: when(row.created_at), customerName: row.customer_name, email: row.customer_email,
      total: money(row.total, row.currency),
      paymentState: row.payment_state, paymentLabel: words(row.payment_state),
      fulfilmentState: row.fulfilment_state, fulfilmentLabel: words(row.fulfilment_state),
      needsReview: row.needs_review,
    })),
    pager: {
      previous: hasNewer && newest ? orderListLink(query, { after: newest.id }) : undefined,
      next: hasOlder && oldest ? orderListLink(query, { before: oldest.id }) : undefined,
      newestFirst: true,
    },
    empty: rows.length === 0,
    opsNav: opsNav('orders'),
  };
}

/** The operations pages' own links (the site's navigation has one entry for them). */
export function opsNav(current: 'orders' | 'dead-letters') {
  return [
    { href: '/ops/orders', label: 'Orders', current: current === 'orders' },
    { href: '/ops/dead-letters', label: 'Dead letters and failed jobs', current: current === 'dead-letters' },
  ];
}
