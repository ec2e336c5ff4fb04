import { HttpError } from '../http/http-error.ts';
import { problemWith } from '../http/input.ts';
import { MAX_QUANTITY, type CheckoutRequest } from '../orders/checkout-request.ts';

/** What the customer typed, echoed back into the form when something is wrong. */
export interface CheckoutFormValues {
  email: string;
  name: string;
  line1: string;
  line2: string;
  postalCode: string;
  city: string;
  country: string;
  referralCode: string;
  /** The search the product list was shown with, so the same products come back. */
  q: string;
  /** product id → quantity as typed. */
  quantities: Map<string, string>;
}

/** The customer's fields and their labels on the form, for sentences the customer can act on. */
export const CUSTOMER_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  email: 'E-mail address', name: 'Name', line1: 'Address line 1', line2: 'Address line 2',
  postal_code: 'Postal code', city: 'Town or city', country: 'Country', referral_code: 'Referral code',
});

export const QUANTITY_FIELD = /^qty_([^\s]{1,40})$/;
const MAX_QUANTITY_FIELDS = 200;

function field(body: Record<string, unknown>, name: string, max = 300): string {
  const value = body[name];
  // For showing back only: a field sent twice (an array) or with control characters is refused by checkCustomerFields.
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' ? text.slice(0, max).replace(/[\p{Cc}\p{Cs}]/gu, '') : '';
}

/**
 * The customer's fields as src/http/input.ts's guard would check them (the
 * route opts out of the guard for these, see shop.routes.ts), with the
 * sentence naming the field by its label, so the form can show it.
 */
export function checkCustomerFields(body: unknown): void {
  const form = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  for (const [name, label] of Object.entries(CUSTOMER_FIELDS)) {
    const problem = form[name] === undefined ? undefined : problemWith('field', label, form[name]);
    if (problem) throw new HttpError(400, 'invalid_field', problem);
  }
}

/** The form's fields as typed (never trusted: the values only go back into the form, escaped). */
export function formValues(body: unknown): CheckoutFormValues {
  const form = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const quantities = new Map<string, string>();
  for (const key of Object.keys(form).slice(0, MAX_QUANTITY_FIELDS * 2)) {
    const match = QUANTITY_FIELD.exec(key);
    if (match && quantities.size < MAX_QUANTITY_FIELDS) quantities.set(match[1]!, field(form, key, 10).trim());
  }
  return {
    email: field(form, 'email'), name: field(form, 'name'), line1: field(form, 'line1'), line2: field(form, 'line2'),
    postalCode: field(form, 'postal_code'), city: field(form, 'city'), country: field(form, 'country'),
    referralCode: field(form, 'referral_code'), q: field(form, 'q', 100), quantities,
  };
}

/**
 * The checkout request the form stands for. Only quantities and the customer
 * come from the form: prices (and anything else a forged form may carry) are
 * not read; createCheckout prices the items from the products table.
 * An empty or 0 quantity leaves the product out; the rest (1 to 99, products
 * that exist, a valid address) is validateCheckout's and createCheckout's job.
 */
export function checkoutRequestOf(values: CheckoutFormValues): CheckoutRequest {
  const items: CheckoutRequest['items'] = [];
  for (const [productId, typed] of values.quantities) {
    if (typed === '' || /^0+$/.test(typed)) continue;
    if (!/^\d{1,3}$/.test(typed)) {
      throw new HttpError(400, 'invalid_quantity', `The quantity of each product must be a whole number from 0 to ${MAX_QUANTITY}.`);
    }
    items.push({ productId, quantity: Number(typed) });
  }
  return {
    items,
    customer: {
      email: values.email, name: values.name,
      address: { line1: values.line1, line2: values.line2, postalCode: values.postalCode, city: values.city, country: values.country },
    },
    referralCode: values.referralCode,
  };
}
