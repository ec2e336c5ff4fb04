import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/kysely.ts';
import type { SupplierClient } from './supplier-client.ts';

/** What applying the supplier's news to an order needs: jobs, e-mails, alerts and refunds are enqueued in the caller's transaction. */
export interface SupplierDeps {
  db: Db;
  boss: Pick<PgBoss, 'send'>;
  config: Config;
  log: Logger;
}

/** What the supplier's jobs and the operator's actions need; the client only where SUPPLIER_API_URL is set. */
export interface SupplierJobDeps extends SupplierDeps {
  boss: PgBoss;
  client: SupplierClient | undefined;
}

/** The client, or a sentence saying why there is none (the jobs that need it are only started with one). */
export function requireClient(deps: { client: SupplierClient | undefined }): SupplierClient {
  if (!deps.client) throw new Error('no supplier is configured (SUPPLIER_API_URL is unset)');
  return deps.client;
}
