import { formatAmount } from '../orders/money.ts';

/** `2026-03-10 14:03:22` (UTC), and the ISO form for <time datetime>. */
export function when(value: Date | string | null | undefined): { label: string; iso: string } | undefined {
  if (value === null || value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return undefined;
  const iso = date.toISOString();
  return { label: `${iso.slice(0, 10)} ${iso.slice(11, 19)}`, iso };
}

export function money(amount: string, currency: string): string {
  return `${formatAmount(amount)} ${currency.toUpperCase()}`;
}

/** `payment_failed` → `payment failed`. */
export function words(state: string | null | undefined): string {
  return (state ?? '').replaceAll('_', ' ');
}

/** A value of a row whose columns are not ours (shipments, alerts…), as one short line of text. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
