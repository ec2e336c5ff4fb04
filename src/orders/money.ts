/**
 * Money crosses two representations: numeric strings from Postgres ("12.50")
 * and integers in the currency's minor unit from the gateway (1250). The
 * shop's currencies all have two decimals (ORDER_CURRENCY is checked), so the
 * conversion is exact string and bigint arithmetic, never a float.
 */

/** "12.5" or "12.50" → 1250n. */
export function toMinorUnits(amount: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!match) throw new Error(`not an amount of money: "${amount}"`);
  const [, sign, whole, fraction = ''] = match;
  const value = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0'));
  return sign ? -value : value;
}

/** 1250 → "12.50". */
export function fromMinorUnits(amount: number | bigint): string {
  const value = BigInt(amount);
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** "1234.5" → "1,234.50" (for people: e-mails and PDFs). */
export function formatAmount(amount: string): string {
  const [whole, cents] = fromMinorUnits(toMinorUnits(amount)).split('.');
  return `${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}
