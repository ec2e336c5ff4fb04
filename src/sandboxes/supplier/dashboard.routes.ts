import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import Handlebars from 'handlebars';
import type { Supplier } from './supplier-context.ts';
import type { OrderItem, ShipmentItem } from './supplier-objects.ts';

const TEMPLATE = path.resolve(import.meta.dirname, '../../../templates/sandboxes/supplier/dashboard.hbs');
/** Our own escaped output, no script; the page reloads itself to follow the clock. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const RECENT_ORDERS = 200;
const RECENT_EVENTS = 50;

/** `GET /`: the orders with their status and packages, and the latest webhooks, for a person watching. */
export async function dashboardRoutes(supplier: Supplier) {
  const render = Handlebars.create().compile<DashboardModel>(await readFile(TEMPLATE, 'utf8'), { strict: false });
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get('/', async (_request, reply) => reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_POLICY)
      .header('cache-control', 'no-store')
      .send(render(dashboardModel(supplier))));
  };
}

interface DashboardModel {
  webhookUrl: string;
  delays: string;
  split: string;
  orderCount: number;
  orders: Array<{
    externalId: string;
    id: string;
    status: string;
    reason: string | null;
    created: string;
    recipient: string;
    items: string;
    next: string | null;
    shipments: Array<{ carrier: string; trackingNumber: string; trackingUrl: string; items: string; shippedAt: string; deliveredAt: string | null }>;
  }>;
  events: Array<{ id: string; type: string; externalId: string; created: string; outcome: string; attempts: number; lastStatus: string }>;
}

function dashboardModel(supplier: Supplier): DashboardModel {
  const { settings, clock } = supplier;
  const orders = supplier.store.all();
  return {
    webhookUrl: settings.webhookUrl ?? 'none (events are recorded, not sent)',
    delays: `production ${settings.delaysMs.production} ms, shipping ${settings.delaysMs.shipping} ms, delivery ${settings.delaysMs.delivery} ms at speed ${clock.speed}`,
    split: settings.splitShipmentsEvery > 0 ? `every ${settings.splitShipmentsEvery}. order ships in two packages` : 'every order ships in one package',
    orderCount: orders.length,
    orders: orders.slice(-RECENT_ORDERS).reverse().map(({ order, next }) => ({
      externalId: order.external_id,
      id: order.id,
      status: order.status,
      reason: order.status_reason,
      created: time(order.created),
      recipient: `${order.recipient.name}, ${order.recipient.city} (${order.recipient.country_code})`,
      items: summary(order.items),
      next: next ? `${next.status} at ${time(next.timer.at)}` : null,
      shipments: order.shipments.map((shipment) => ({
        carrier: shipment.service,
        trackingNumber: shipment.tracking_number,
        trackingUrl: shipment.tracking_url,
        items: summary(shipment.items),
        shippedAt: time(shipment.shipped_at),
        deliveredAt: shipment.delivered_at && time(shipment.delivered_at),
      })),
    })),
    events: supplier.delivery.reports().slice(-RECENT_EVENTS).reverse().map((report) => {
      const last = report.attempts.at(-1);
      return {
        id: report.id,
        type: report.type,
        externalId: report.externalId,
        created: time(report.created),
        outcome: report.outcome,
        attempts: report.attempts.length,
        lastStatus: last ? (last.status === null ? last.error ?? 'no answer' : String(last.status)) : '—',
      };
    }),
  };
}

function summary(items: ReadonlyArray<OrderItem | ShipmentItem>): string {
  return items.map((item) => `${item.quantity} × ${item.sku}`).join(', ');
}

function time(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19);
}
