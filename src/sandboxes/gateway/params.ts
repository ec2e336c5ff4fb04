import type { FormObject, FormValue } from './form-decoder.ts';
import { parameterInvalid, parameterMissing, parameterUnknown } from './stripe-error.ts';
import type { Metadata } from './stripe-objects.ts';

/**
 * Reading request parameters the way Stripe validates them: a wrong type or a
 * missing required value is a 400 naming the parameter in Stripe's bracket
 * notation (`line_items[0][quantity]`), and an unknown parameter is refused
 * rather than ignored, so a typo in the shop fails here and not in production.
 */
export function child(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}[${key}]`;
}

export function rejectUnknown(params: FormObject, allowed: readonly string[], path = ''): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw parameterUnknown(child(path, key));
  }
}

export function optionalString(params: FormObject, key: string, path = '', maxLength = 5000): string | null {
  const value = params[key];
  if (value === undefined || value === '') return null;
  const name = child(path, key);
  if (typeof value !== 'string') throw parameterInvalid(name, `Invalid string: ${describe(value)}`);
  if (value.length > maxLength) throw parameterInvalid(name, `Invalid string: the value of ${name} must be at most ${maxLength} characters long.`);
  return value;
}

export function requiredString(params: FormObject, key: string, path = '', maxLength?: number): string {
  const value = optionalString(params, key, path, maxLength);
  if (value === null) throw parameterMissing(child(path, key));
  return value;
}

export function optionalInteger(params: FormObject, key: string, path = '', min = Number.MIN_SAFE_INTEGER): number | null {
  const value = params[key];
  if (value === undefined || value === '') return null;
  const name = child(path, key);
  if (typeof value !== 'string' || !/^-?\d{1,15}$/.test(value)) {
    throw parameterInvalid(name, `Invalid integer: ${describe(value)}`, 'parameter_invalid_integer');
  }
  const number = Number(value);
  if (number < min) throw parameterInvalid(name, `This value must be greater than or equal to ${min}.`, 'parameter_invalid_integer');
  return number;
}

export function requiredInteger(params: FormObject, key: string, path = '', min?: number): number {
  const value = optionalInteger(params, key, path, min);
  if (value === null) throw parameterMissing(child(path, key));
  return value;
}

export function optionalObject(params: FormObject, key: string, path = ''): FormObject | null {
  const value = params[key];
  if (value === undefined || value === '') return null;
  if (typeof value === 'string' || Array.isArray(value)) throw parameterInvalid(child(path, key), `Invalid object`, 'parameter_invalid_object');
  return value;
}

export function requiredArray(params: FormObject, key: string, path = ''): FormValue[] {
  const value = params[key];
  const name = child(path, key);
  if (value === undefined || value === '') throw parameterMissing(name);
  if (!Array.isArray(value)) throw parameterInvalid(name, 'Invalid array', 'parameter_invalid_array');
  return value;
}

export function objectItem(value: FormValue, name: string): FormObject {
  if (typeof value === 'string' || Array.isArray(value)) throw parameterInvalid(name, 'Invalid object', 'parameter_invalid_object');
  return value;
}

/** Stripe's limits: 50 keys, keys up to 40 characters, values up to 500; an empty value sets nothing. */
export function metadata(params: FormObject, key: string, path = ''): Metadata {
  const value = optionalObject(params, key, path);
  const result: Metadata = {};
  if (!value) return result;
  const entries = Object.entries(value);
  if (entries.length > 50) throw parameterInvalid(child(path, key), 'Invalid metadata: metadata can have at most 50 keys.');
  for (const [name, item] of entries) {
    const itemPath = child(child(path, key), name);
    if (typeof item !== 'string') throw parameterInvalid(itemPath, `Invalid string: ${describe(item)}`);
    if (name.length > 40) throw parameterInvalid(itemPath, 'Invalid metadata: keys must be at most 40 characters long.');
    if (item.length > 500) throw parameterInvalid(itemPath, 'Invalid metadata: values must be at most 500 characters long.');
    if (item !== '') Object.defineProperty(result, name, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

/** `expand[]=payment_intent` or `expand[0]=…`: the paths to expand. */
export function expandPaths(params: FormObject): string[] {
  const value = params.expand;
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw parameterInvalid('expand', 'Invalid array', 'parameter_invalid_array');
  }
  return value as string[];
}

export function httpUrl(params: FormObject, key: string, path = ''): string | null {
  const value = optionalString(params, key, path);
  if (value === null) return null;
  let url: URL;
  try {
    url = new URL(value.replace('{CHECKOUT_SESSION_ID}', 'placeholder'));
  } catch {
    throw parameterInvalid(child(path, key), 'Not a valid URL', 'url_invalid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw parameterInvalid(child(path, key), 'Not a valid URL', 'url_invalid');
  return value;
}

function describe(value: FormValue): string {
  return typeof value === 'string' ? value : Array.isArray(value) ? 'array' : 'object';
}
