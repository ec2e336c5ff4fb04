import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One CSV field (RFC 4180): quoted when it holds a quote, comma or line break. */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Streams rows into `table (columns)` with one COPY statement, in chunks of
 * lines, waiting for the socket to drain between chunks. `rows` yields CSV
 * lines (without the newline). onProgress gets the running count.
 */
export async function copyCsvRows(
  client: pg.PoolClient | pg.Client,
  table: string,
  columns: readonly string[],
  rows: Iterable<string>,
  onProgress: (copied: number) => void = () => {},
): Promise<number> {
  const stream = client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin with (format csv)`));
  let failure: Error | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', (error) => {
      failure = error;
      reject(error);
    });
  });
  finished.catch(() => {}); // awaited below; a failure mid-way surfaces through flush()
  let copied = 0;
  let chunk: string[] = [];
  const flush = async () => {
    if (failure) throw failure;
    if (chunk.length === 0) return;
    const text = chunk.join('\n') + '\n';
    chunk = [];
    // once() rejects on 'error' and removes its listeners either way.
    if (!stream.write(text)) await once(stream, 'drain');
    onProgress(copied);
  };
  for (const line of rows) {
    chunk.push(line);
    copied++;
    if (chunk.length >= 10_000) await flush();
  }
  await flush();
  stream.end();
  await finished;
  return copied;
}
