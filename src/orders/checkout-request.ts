import { HttpError } from '../http/http-error.ts';

/** A postal address as a shopper types it. */
export interface AddressInput {
  line1: string;
  line2?: string | null;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-2 (GB, DE, FR…). */
  country: string;
}

export type CheckoutCustomer =
  | { customerId: string | number; address?: AddressInput }
  | { email: string; name: string; address: AddressInput; telephone?: string | null };

export interface CheckoutRequest {
  items: { productId: string | number; quantity: number }[];
  customer: CheckoutCustomer;
  /** From a sales agent's referral link; an unknown code falls back to the web shop. */
  referralCode?: string | null;
}

/** The request after validation: ids as strings, one line per product, trimmed text. */
export interface ValidCheckout {
  lines: { productId: string; quantity: number }[];
  customer: { customerId: string } | { email: string; name: string; telephone: string | null };
  address: Required<Omit<AddressInput, 'line2'>> & { line2: string | null } | null;
  referralCode: string | null;
}

export const MAX_QUANTITY = 99;
const MAX_LINES = 50;

function refuse(code: string, sentence: string): never {
  throw new HttpError(400, code, sentence);
}

/**
 * Checks what a shopper sent before anything is written, and says what is
 * wrong in a sentence for them. Prices are not part of the request: the
 * server reads them from the products.
 */
export function validateCheckout(request: CheckoutRequest): ValidCheckout {
  if (!Array.isArray(request?.items) || request.items.length === 0) refuse('empty_cart', 'Your cart is empty: add a product first.');
  if (request.items.length > MAX_LINES) refuse('too_many_items', `An order can have at most ${MAX_LINES} different products.`);
  const quantities = new Map<string, number>();
  for (const item of request.items) {
    const productId = String(item?.productId ?? '').trim();
    if (!/^[1-9][0-9]{0,17}$/.test(productId)) refuse('invalid_product', `"${productId.slice(0, 40)}" is not a product of this shop.`);
    const quantity = item.quantity;
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      refuse('invalid_quantity', `The quantity of each product must be a whole number from 1 to ${MAX_QUANTITY}.`);
    }
    // The same product twice (two clicks on "add"): one line with both quantities.
    const total = (quantities.get(productId) ?? 0) + quantity;
    if (total > MAX_QUANTITY) refuse('invalid_quantity', `The quantity of each product must be a whole number from 1 to ${MAX_QUANTITY}.`);
    quantities.set(productId, total);
  }
  const lines = [...quantities].map(([productId, quantity]) => ({ productId, quantity }));

  const customer = request.customer;
  if (!customer || typeof customer !== 'object') refuse('missing_customer', 'Tell us who you are: your name, e-mail address and address.');
  let validCustomer: ValidCheckout['customer'];
  if ('customerId' in customer) {
    const customerId = String(customer.customerId ?? '').trim();
    if (!/^[1-9][0-9]{0,17}$/.test(customerId)) refuse('unknown_customer', 'This customer account does not exist.');
    validCustomer = { customerId };
  } else {
    const name = text(customer.name, 200, 'Name');
    if (!name) refuse('missing_name', 'Enter your name.');
    const email = text(customer.email, 254, 'E-mail address');
    if (!email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) refuse('invalid_email', 'Enter a valid e-mail address, like ann@example.com.');
    validCustomer = { email, name, telephone: text(customer.telephone, 50, 'Telephone') || null };
  }
  const address = customer.address === undefined && 'customerId' in customer ? null : validateAddress(customer.address);

  const referral = text(request.referralCode, 64, 'Referral code');
  return { lines, customer: validCustomer, address, referralCode: referral && /^[A-Za-z0-9_-]{2,64}$/.test(referral) ? referral : null };
}

function validateAddress(address: AddressInput | undefined): NonNullable<ValidCheckout['address']> {
  if (!address || typeof address !== 'object') refuse('missing_address', 'Enter the address we should send your order to.');
  const line1 = text(address.line1, 200, 'Address line 1');
  if (!line1) refuse('missing_address', 'Enter the street and number of your address.');
  const postalCode = text(address.postalCode, 20, 'Postal code');
  if (!postalCode) refuse('missing_postal_code', 'Enter the postal code of your address.');
  const city = text(address.city, 100, 'Town or city');
  if (!city) refuse('missing_city', 'Enter the town or city of your address.');
  const country = text(address.country, 2, 'Country').toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) refuse('invalid_country', 'Choose the country of your address (a two-letter code such as GB or DE).');
  return { line1, line2: text(address.line2, 200, 'Address line 2') || null, postalCode, city, country };
}

/**
 * Trimmed text, or '' for anything that is not a string; too long is
 * refused, not cut, and so is a control character (a NUL cannot be stored
 * in a text column; tabs and newlines do not belong on one line of an address).
 */
function text(value: unknown, max: number, label: string): string {
  if (typeof value !== 'string') return '';
  const trimmed = value.trim();
  if (trimmed.length > max) refuse('too_long', `The field "${label}" is longer than ${max} characters.`);
  if (/[\p{Cc}\p{Cs}]/u.test(trimmed)) refuse('invalid_field', `The field "${label}" contains a control character, which it may not: remove it and try again.`);
  return trimmed;
}
