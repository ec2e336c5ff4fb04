import type { Db } from '../db/kysely.ts';
import { HttpError } from '../http/http-error.ts';
import type { FulfilmentState } from '../orders/order-states.ts';
import type { Order } from '../orders/orders.schema.ts';
import { cell, money, when, words } from './ops-format.ts';
import { errorOf, jobsOfOrder, type JobRow } from './ops-jobs.repository.ts';
import { findOrder, orderItems } from './ops-orders.repository.ts';
import { opsNav } from './ops-orders.service.ts';
import type { OpsQueues } from './ops-queues.ts';
import { FLASHES, type Flash } from './ops-query.ts';
import { optionalRows, orderRecords } from './ops-timeline.repository.ts';

/** What this process can do about an order: decides which buttons the page shows. */
export interface OrderCapabilities {
  /** A job queue in this process: Retry and every action (refund, cancel, resubmit) need one. */
  jobs: boolean;
}

const OPERATOR_CANCELLABLE: readonly FulfilmentState[] = ['unfulfilled', 'submitted', 'supplier_failed', 'supplier_rejected'];

interface TimelineEntry {
  at: Date;
  kind: string;
  title: string;
  details: string[];
  problem?: string;
  href?: string;
  linkLabel?: string;
}

export async function loadOrder(db: Db, ref: { orderId: string } | { number: string }): Promise<Order> {
  const order = await findOrder(db, ref);
  if (!order) throw new HttpError(404, 'unknown_order', `There is no order ${'orderId' in ref ? `with id ${ref.orderId}` : ref.number}.`);
  return order;
}

/**
 * One order's page: summary panels and one chronological list of everything
 * that happened to it, from every table that records something about it.
 */
export async function orderPage(db: Db, order: Order, queues: OpsQueues, can: OrderCapabilities, flash: { done?: Flash; problem?: string } = {}) {
  const [items, records, extra] = await Promise.all([orderItems(db, order.id), orderRecords(db, order), optionalRows(db, order.id)]);
  const jobs = await jobsOfOrder(db, {
    orderId: order.id, createdAt: order.created_at,
    webhookEventIds: records.webhooks.map((w) => w.id), invoiceIds: records.invoices.map((i) => i.id), emailIds: records.emails.map((e) => e.id),
    alertIds: extra.filter((e) => e.spec.table === 'alerts').flatMap((e) => e.rows.map((row) => String(row.id))),
  });
  const shownJobs = jobs.map((job) => jobModel(job, jobs, queues, can.jobs));

  const timeline: TimelineEntry[] = [
    ...records.events.map((e) => ({
      at: e.created_at, kind: 'event',
      title: e.from_state === e.to_state
        ? `${e.dimension}: ${words(e.to_state)} (unchanged)`
        : `${e.dimension}: ${e.from_state ? `${words(e.from_state)} → ` : ''}${words(e.to_state)}`,
      details: [e.reason, ...(e.source ? [`source ${e.source}`] : [])],
    })),
    ...records.webhooks.map((w) => ({
      at: w.received_at, kind: 'webhook', title: `webhook ${w.type} received`,
      details: [`${w.provider} ${w.event_id}`, w.processed_at ? `processed ${when(w.processed_at)!.label}: ${w.outcome ?? ''}` : 'not processed yet'],
      problem: w.processing_error ?? undefined,
    })),
    ...records.payments.map((p) => ({
      at: p.created_at, kind: 'payment', title: `payment of ${money(p.amount, p.currency)} recorded`,
      details: [`${p.provider} ${p.provider_payment_id}`, `status ${words(p.status)}`],
    })),
    ...records.invoices.map((i) => ({
      at: i.issued_at, kind: 'invoice', title: `${i.kind === 'invoice' ? 'invoice' : 'credit note'} ${i.number} issued`,
      details: [money(i.total, i.currency), i.rendered_at ? `PDF rendered ${when(i.rendered_at)!.label}` : 'PDF not rendered yet'],
      ...(i.rendered_at ? { href: `/ops/invoices/${i.id}/pdf`, linkLabel: 'PDF' } : {}),
    })),
    ...shownJobs.map((j) => ({
      at: j.createdAt, kind: 'job', title: `job ${j.queue}: ${j.state}`,
      details: [`attempts ${j.attempts}`, ...(j.started ? [`started ${j.started.label}`] : []), ...(j.completed ? [`ended ${j.completed.label}`] : [])],
      problem: j.error,
    })),
    ...records.emails.map((e) => ({
      at: e.created_at, kind: 'email', title: `e-mail ${e.purpose}: ${e.status}`,
      details: [`attempts ${e.attempts}`, ...(e.sent_at ? [`sent ${when(e.sent_at)!.label}`] : [])],
      problem: e.last_error ?? undefined,
    })),
    ...extra.flatMap(({ spec, rows, timeColumn }) => rows.flatMap((row) => {
      const at = timeColumn ? when(row[timeColumn] as string) : undefined;
      if (!at) return [];
      const summary = ['title', 'severity', 'status', 'last_supplier_status', 'rejection_reason', 'method', 'path', 'error', 'carrier', 'tracking_number', 'occurrences', 'source']
        .filter((key) => row[key] !== undefined && row[key] !== null).map((key) => `${key.replaceAll('_', ' ')} ${cell(row[key])}`);
      const title = typeof row.title === 'string' ? `${spec.kind}: ${cell(row.title)}` : spec.kind;
      return [{ at: new Date(at.iso), kind: spec.kind, title, details: summary.filter((line) => !line.startsWith('title ')) }];
    })),
  ];
  // Stable: rows of one transaction share its time and keep the order above.
  timeline.sort((a, b) => a.at.getTime() - b.at.getTime());

  // An operator cancels before production starts (docs/order-flow.md); the action itself has the last word.
  const cancellable = OPERATOR_CANCELLABLE.includes(order.fulfilment_state) && order.payment_state !== 'payment_processing';
  // A paid order's first submission is automatic: sending again is for one the supplier failed or rejected.
  const resubmittable = order.payment_state === 'paid' && (order.fulfilment_state === 'supplier_failed' || order.fulfilment_state === 'supplier_rejected');
  return {
    title: `Order ${order.number}`,
    heading: `Order ${order.number}`,
    opsNav: opsNav('orders'),
    flash: flash.done ? FLASHES[flash.done] : undefined,
    problem: flash.problem,
    order: {
      id: order.id, number: order.number, created: when(order.created_at), paid: when(order.paid_at),
      total: money(order.total, order.currency),
      paymentState: order.payment_state, paymentLabel: words(order.payment_state),
      fulfilmentState: order.fulfilment_state, fulfilmentLabel: words(order.fulfilment_state),
      needsReview: order.needs_review, reviewReason: order.review_reason,
      customerName: order.customer_name, email: order.customer_email,
      address: [order.address_line1, order.address_line2, `${order.postal_code} ${order.city}`, order.country].filter(Boolean),
      referralCode: order.referral_code, checkoutSession: order.checkout_session_id, paymentIntent: order.payment_intent_id,
      paymentAttempts: order.payment_attempts, expires: when(order.expires_at),
    },
    items: items.map((i) => ({ name: i.name, quantity: i.quantity, unitPrice: money(i.unit_price, order.currency) })),
    timeline: timeline.map((entry) => ({ ...entry, when: when(entry.at) })),
    payments: records.payments.map((p) => ({ ...p, amountLabel: money(p.amount, p.currency), created: when(p.created_at), statusLabel: words(p.status) })),
    documents: records.invoices.map((i) => ({
      number: i.number, kindLabel: i.kind === 'invoice' ? 'invoice' : 'credit note', total: money(i.total, i.currency), issued: when(i.issued_at),
      pdfHref: i.rendered_at ? `/ops/invoices/${i.id}/pdf` : undefined,
    })),
    emails: records.emails.map((e) => ({ ...e, created: when(e.created_at), sent: when(e.sent_at) })),
    webhooks: records.webhooks.map((w) => ({ ...w, received: when(w.received_at), processed: when(w.processed_at) })),
    jobs: shownJobs,
    jobsAvailable: can.jobs,
    extra: extra.map(({ spec, rows }) => {
      const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
      return { title: spec.title, columns, rows: rows.map((row) => columns.map((column) => cell(row[column]))) };
    }),
    actions: {
      refund: can.jobs && order.payment_state === 'paid' ? { label: `Refund ${money(order.total, order.currency)} to the customer` } : undefined,
      cancel: can.jobs && cancellable ? { label: 'Cancel the order' } : undefined,
      resubmit: can.jobs && resubmittable ? { label: 'Send the order to the supplier again' } : undefined,
      jobsMissing: !can.jobs,
    },
  };
}

/**
 * A job as the order page shows it. Retry goes on a failed job, or on a
 * dead-letter copy whose failed original pg-boss no longer keeps: never on
 * both rows of one failure.
 */
function jobModel(job: JobRow, all: readonly JobRow[], queues: OpsQueues, canRetry: boolean) {
  const isCopy = queues.isDeadLetter(job.queue);
  const originalShown = isCopy && all.some((other) => other.id === job.source_id && other.queue === job.source_name);
  const retryable = canRetry && ((job.state === 'failed' && !isCopy)
    || (isCopy && (job.state === 'created' || job.state === 'retry') && !originalShown));
  return {
    id: job.id, queue: job.queue, state: job.state, isCopy,
    createdAt: job.created_on, created: when(job.created_on), started: when(job.started_on), completed: when(job.completed_on),
    attempts: isCopy ? (job.source_retry_count ?? 0) + 1 : job.retry_count + (job.state === 'created' ? 0 : 1),
    error: job.state === 'failed' ? errorOf(job.output) : isCopy ? errorOf(job.source_output) : undefined,
    copyOf: isCopy && job.source_name ? `${job.source_name} ${job.source_id}` : undefined,
    retryable,
  };
}
