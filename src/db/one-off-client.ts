import pg from 'pg';

/**
 * A single connection for one piece of work (CREATE/DROP DATABASE cannot use
 * a pool's transaction-friendly habits, and one-off admin steps need no pool).
 * Its socket errors surface through the queries, so they are not re-reported.
 */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
