/**
 * Display formats for the exact strings pg returns for bigint and numeric.
 * Nothing here goes through Number: a total of 10^15 cents must print exactly.
 */

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** '1234567' -> '1,234,567'. */
export function formatCount(value: string | null | undefined): string {
  const text = (value ?? '0').trim();
  if (!/^-?\d+$/.test(text)) throw new Error(`not an integer: ${text}`);
  const negative = text.startsWith('-');
  return (negative ? '-' : '') + groupThousands(negative ? text.slice(1) : text);
}

/** Exact cents of a decimal string, rounding half away from zero past two places. */
export function toCents(value: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(value.trim());
  if (!match) throw new Error(`not a decimal: ${value}`);
  const [, sign, whole, fraction = ''] = match;
  let cents = BigInt(whole!) * 100n + BigInt((fraction + '00').slice(0, 2));
  if (fraction.length > 2 && fraction.charCodeAt(2) >= 53 /* '5' */) cents += 1n;
  return sign === '-' ? -cents : cents;
}

/** Exact cents back to a decimal string: -12345n -> '-123.45'. */
export function centsToDecimal(cents: bigint): string {
  const negative = cents < 0n;
  const digits = (negative ? -cents : cents).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** '1234567.5' -> '1,234,567.50'. */
export function formatMoney(value: string | null | undefined): string {
  const cents = toCents(value ?? '0');
  const negative = cents < 0n;
  const digits = (negative ? -cents : cents).toString().padStart(3, '0');
  return `${negative ? '-' : ''}${groupThousands(digits.slice(0, -2))}.${digits.slice(-2)}`;
}

/** '1234567.5' -> '1234567.50': exact, no separators, for CSV and JSON. */
export function plainMoney(value: string | null | undefined): string {
  return formatMoney(value).replaceAll(',', '');
}

// Built once: constructing an Intl formatter costs far more than using one.
const longDay = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const shortDay = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

const dayLabels = new Map<string, string>();

/** '2026-03-10' -> 'Tue 10 Mar 2026' (the day is a calendar day: formatted in UTC, never shifted). */
export function formatDay(day: string): string {
  // Memoised: Intl formatting showed up in the page profile (every row has a day), and days repeat.
  let label = dayLabels.get(day);
  if (label === undefined) {
    if (dayLabels.size >= 10_000) dayLabels.clear();
    label = longDay.format(new Date(`${day}T00:00:00Z`)).replace(',', '');
    dayLabels.set(day, label);
  }
  return label;
}

/** '2026-03-10' -> '10 Mar', for chart axes and pivot headers. */
export function formatShortDay(day: string): string {
  return shortDay.format(new Date(`${day}T00:00:00Z`));
}
