import type { Catalogue } from './catalogue.ts';
import { SupplierApiError, validationFailed } from './supplier-error.ts';
import type { OrderItem, Recipient } from './supplier-objects.ts';

export interface OrderRequest {
  externalId: string;
  recipient: Recipient;
  items: OrderItem[];
}

export const EXTERNAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MAX_ITEMS = 100;
const MAX_QUANTITY = 1000;
/** Countries whose addresses need a state or province code. */
const STATE_REQUIRED = new Set(['US', 'CA', 'AU']);
/** Region codes ICU names that are no country to ship to. */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'ZZ']);
const regions = new Intl.DisplayNames(['en'], { type: 'region' });

/**
 * Reads a `POST /orders` body, strictly: a missing, ill-typed or unknown field
 * is validation_failed (400) naming it; a well-formed order the supplier
 * cannot take is invalid_address, unknown_sku or out_of_stock (422).
 */
export function parseOrderRequest(body: unknown, catalogue: Catalogue): OrderRequest {
  const root = object(body, 'body');
  onlyFields(root, ['external_id', 'recipient', 'items'], '');
  const externalId = root.external_id;
  if (typeof externalId !== 'string' || !EXTERNAL_ID.test(externalId)) {
    throw validationFailed('external_id', 'external_id must be 1 to 64 letters, digits, ".", "_", ":" or "-", starting with a letter or digit.');
  }
  const recipient = parseRecipient(root.recipient);
  const items = parseItems(root.items);
  checkAddress(recipient);
  items.forEach((item, index) => checkStock(catalogue, item, index));
  return { externalId, recipient, items };
}

function parseRecipient(value: unknown): Recipient {
  const fields = object(value, 'recipient');
  onlyFields(fields, ['name', 'address1', 'address2', 'city', 'state_code', 'zip', 'country_code', 'email'], 'recipient.');
  const countryCode = fields.country_code;
  if (typeof countryCode !== 'string' || !/^[A-Z]{2}$/.test(countryCode)) {
    throw validationFailed('recipient.country_code', 'recipient.country_code must be an ISO 3166-1 alpha-2 code in upper case, such as DE.');
  }
  const email = optionalText(fields, 'email', 254);
  if (email !== null && !EMAIL.test(email)) throw validationFailed('recipient.email', 'recipient.email must be an e-mail address.');
  return {
    name: text(fields, 'name', 100),
    address1: text(fields, 'address1', 200),
    address2: optionalText(fields, 'address2', 200),
    city: text(fields, 'city', 100),
    state_code: optionalText(fields, 'state_code', 10),
    zip: text(fields, 'zip', 20),
    country_code: countryCode,
    email,
  };
}

function parseItems(value: unknown): OrderItem[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ITEMS) {
    throw validationFailed('items', `items must be a list of 1 to ${MAX_ITEMS} items.`);
  }
  const seen = new Set<string>();
  return value.map((entry, index) => {
    const prefix = `items[${index}]`;
    const fields = object(entry, prefix);
    onlyFields(fields, ['sku', 'quantity', 'name'], `${prefix}.`);
    const { sku, quantity } = fields;
    if (typeof sku !== 'string' || !SKU.test(sku)) throw validationFailed(`${prefix}.sku`, `${prefix}.sku must be 1 to 64 letters, digits, ".", "_" or "-".`);
    if (seen.has(sku)) throw validationFailed(`${prefix}.sku`, `${prefix}.sku repeats ${sku}: give each SKU once, with its total quantity.`);
    seen.add(sku);
    if (!Number.isSafeInteger(quantity) || (quantity as number) < 1 || (quantity as number) > MAX_QUANTITY) {
      throw validationFailed(`${prefix}.quantity`, `${prefix}.quantity must be a whole number from 1 to ${MAX_QUANTITY}.`);
    }
    return { sku, quantity: quantity as number, name: text(fields, 'name', 200, prefix) };
  });
}

function checkAddress(recipient: Recipient): void {
  const { country_code: country, state_code: state } = recipient;
  const name = regions.of(country);
  if (!name || name === country || name === 'Unknown Region' || NOT_COUNTRIES.has(country)) {
    throw new SupplierApiError(422, 'invalid_address', `We do not know the country ${country}.`, { field: 'recipient.country_code' });
  }
  if (STATE_REQUIRED.has(country) && state === null) {
    throw new SupplierApiError(422, 'invalid_address', `An address in ${name} needs recipient.state_code.`, { field: 'recipient.state_code' });
  }
}

function checkStock(catalogue: Catalogue, item: OrderItem, index: number): void {
  const answer = catalogue(item.sku);
  if (answer === 'unknown_sku') {
    throw new SupplierApiError(422, 'unknown_sku', `We do not make ${item.sku}.`, { field: `items[${index}].sku`, sku: item.sku });
  }
  if (answer === 'out_of_stock') {
    throw new SupplierApiError(422, 'out_of_stock', `${item.sku} is out of stock.`, { field: `items[${index}].sku`, sku: item.sku });
  }
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw validationFailed(name, `${name} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function onlyFields(fields: Record<string, unknown>, allowed: string[], prefix: string): void {
  const unknown = Object.keys(fields).find((key) => !allowed.includes(key));
  if (unknown !== undefined) throw validationFailed(`${prefix}${unknown}`, `Unknown field ${prefix}${unknown}.`);
}

function text(fields: Record<string, unknown>, key: string, max: number, prefix = 'recipient'): string {
  const value = fields[key];
  const name = `${prefix}.${key}`;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw validationFailed(name, `${name} is required: text of at most ${max} characters.`);
  return value;
}

function optionalText(fields: Record<string, unknown>, key: string, max: number): string | null {
  const value = fields[key];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > max) throw validationFailed(`recipient.${key}`, `recipient.${key} must be text of at most ${max} characters, or null.`);
  return value;
}
