import { CompiledQuery, type Transaction } from 'kysely';
import type { Db as JobDatabase } from 'pg-boss';
import { PREPARED } from '../db/kysely.ts';
import type { Database } from '../db/schema.ts';

/**
 * pg-boss's `db` option for a send inside the caller's Kysely transaction
 * (the job commits or rolls back with the caller's rows), as pg-boss's own
 * fromKysely, but marked to run as a prepared statement (see src/db/kysely.ts):
 * pg-boss's job insert is a CTE that costs more to plan (1.0 ms) than to run.
 */
export function jobsIn(trx: Transaction<Database>): JobDatabase {
  return {
    async executeSql(text: string, values?: unknown[]) {
      // Only parameterised statements: a prepared statement holds one command.
      const marked = values && values.length > 0 ? `${text}\n${PREPARED}` : text;
      const result = await trx.executeQuery(CompiledQuery.raw(marked, values ?? []));
      return { rows: [...result.rows] };
    },
  };
}
