/** 'YYYY-MM' naming a real month, as its first and last days (YYYY-MM-DD), or undefined. */
export function parseIsoMonth(text: string): { first: string; last: string } | undefined {
  const match = /^(\d{4})-(\d{2})$/.exec(text);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (month < 1 || month > 12 || year < 1000) return undefined;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return { first: `${text}-01`, last: `${text}-${String(lastDay).padStart(2, '0')}` };
}

/** The month after a YYYY-MM-01 day, as YYYY-MM-01. */
export function nextMonth(firstDay: string): string {
  const date = new Date(`${firstDay}T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() + 1);
  return date.toISOString().slice(0, 10);
}
