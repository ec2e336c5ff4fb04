/**
 * Progress on stderr: one line rewritten in place on a terminal, a line every
 * few seconds otherwise (CI logs).
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr) {
  let lastLine = 0;
  let started = performance.now();
  let currentTable = '';
  return {
    update(table: string, done: number, total: number) {
      const now = performance.now();
      if (table !== currentTable) {
        if (currentTable && stream.isTTY) stream.write('\n');
        currentTable = table;
        started = now;
        lastLine = 0;
      }
      const finished = done >= total;
      if (!finished && now - lastLine < (stream.isTTY ? 200 : 5000)) return;
      lastLine = now;
      const seconds = (now - started) / 1000;
      const rate = seconds > 0.05 ? `, ${Math.round(done / seconds).toLocaleString('en')} rows/s` : '';
      const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
      const text = `${table}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} (${percent}%)${rate}`;
      stream.write(stream.isTTY ? `\r${text}\x1b[K` : `${text}\n`);
    },
    done(message: string) {
      if (currentTable && stream.isTTY) stream.write('\n');
      currentTable = '';
      stream.write(`${message}\n`);
    },
  };
}
