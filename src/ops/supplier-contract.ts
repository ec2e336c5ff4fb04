import { existsSync } from 'node:fs';
import type { Logger } from 'pino';

/**
 * The contract of src/supplier/supplier-actions.ts (the supplier issue, built
 * alongside): each action is idempotent, records itself in order_events with
 * `actor` as its source, and throws HttpError(409, sentence) when the order's
 * state does not allow it. This page only calls them.
 */
export type SupplierAction = (deps: SupplierActionDeps, orderId: string, options: { actor: string }) => Promise<unknown>;

/**
 * What the page hands every action: what the page itself has (the Kysely
 * db, the pg pool, the started pg-boss, the config, a logger). The supplier
 * module makes its API client from the config itself.
 */
export interface SupplierActionDeps {
  db: unknown;
  pool: unknown;
  boss: unknown;
  config: unknown;
  log: Logger;
}

export interface SupplierActions {
  cancelOrder?: SupplierAction;
  resubmitToSupplier?: SupplierAction;
  refundOrder?: SupplierAction;
}

export const SUPPLIER_ACTIONS_FILE = new URL('../supplier/supplier-actions.ts', import.meta.url);


/**
 * The supplier actions, when that module exists; undefined while it does not
 * (the page then hides its buttons). A module that exists but does not load
 * is logged as an error and treated as absent, so one half-written file does
 * not take the operations pages down with it.
 */
export async function loadSupplierActions(log: Logger, file: URL = SUPPLIER_ACTIONS_FILE): Promise<SupplierActions | undefined> {
  if (!existsSync(file)) return undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(file.href)) as Record<string, unknown>;
  } catch (error) {
    log.error({ err: error, file: file.pathname }, 'the supplier actions could not be loaded: their buttons are hidden');
    return undefined;
  }
  const pick = (name: keyof SupplierActions) => (typeof module[name] === 'function' ? (module[name] as SupplierAction) : undefined);
  return { cancelOrder: pick('cancelOrder'), resubmitToSupplier: pick('resubmitToSupplier'), refundOrder: pick('refundOrder') };
}
