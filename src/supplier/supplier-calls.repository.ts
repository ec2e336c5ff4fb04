import type { Db } from '../db/kysely.ts';

export interface CallStart {
  orderId: string | null;
  method: string;
  path: string;
  idempotencyKey: string | null;
  source: string | null;
}

export interface CallEnd {
  status: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * The audit of supplier API calls. Written on the pool, outside any
 * transaction of the caller: the record of a call survives the rollback of
 * whatever the call was for, and a row written before the call (status null)
 * stays behind when the process dies during it.
 */
export async function recordCallStart(db: Db, call: CallStart): Promise<string> {
  const row = await db.insertInto('supplier_calls').values({
    order_id: call.orderId, method: call.method, path: call.path, idempotency_key: call.idempotencyKey, source: call.source,
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function recordCallEnd(db: Db, id: string, end: CallEnd): Promise<void> {
  await db.updateTable('supplier_calls').set({
    status: end.status, error: end.error?.slice(0, 2000) ?? null, duration_ms: Math.max(0, Math.round(end.durationMs)), finished_at: new Date(),
  }).where('id', '=', id).execute();
}

/** Whether an order was ever POSTed to the supplier (whatever came of it): the next attempt looks it up first. */
export async function hasSubmitAttempt(db: Db, orderId: string): Promise<boolean> {
  const row = await db.selectFrom('supplier_calls').select('id')
    .where('order_id', '=', orderId).where('method', '=', 'POST').where('path', '=', '/orders').limit(1).executeTakeFirst();
  return row !== undefined;
}
