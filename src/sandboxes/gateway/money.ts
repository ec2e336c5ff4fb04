/**
 * Amounts on the wire are integers in the currency's minor unit (cents);
 * people read them with the currency's symbol and its own number of decimals
 * (none for JPY). Unknown codes fall back to two decimals and the code.
 */
export function formatMoney(minorUnits: number, currency: string): string {
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() });
  } catch {
    return `${(minorUnits / 100).toFixed(2)} ${currency.toUpperCase()}`;
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minorUnits / 10 ** digits);
}
