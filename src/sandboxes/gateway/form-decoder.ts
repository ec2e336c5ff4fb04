/**
 * Decodes Stripe's form bodies and query strings: `a[b][0][c]=v` becomes
 * `{ a: { b: [{ c: 'v' }] } }`. stripe-node writes arrays with indexes
 * (`expand[0]=x`); browsers and curl users write `expand[]=x`: both work.
 * Objects have no prototype, so a key such as `__proto__` is just a key.
 */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

export class FormDecodeError extends Error {
  readonly param: string;
  constructor(message: string, param: string) {
    super(message);
    this.param = param;
  }
}

/** An index above this is a typo or an attack, never a list the shop sends. */
const MAX_ARRAY_INDEX = 999;
const MAX_DEPTH = 8;

export function decodeForm(text: string): FormObject {
  const root = emptyObject();
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawKey = equals === -1 ? pair : pair.slice(0, equals);
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1);
    const key = decodeComponent(rawKey, rawKey);
    const value = decodeComponent(rawValue, key);
    assign(root, parseKey(key), value, key);
  }
  return compact(root) as FormObject;
}

function decodeComponent(raw: string, param: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw new FormDecodeError(`Invalid percent-encoding in the parameter ${param}.`, param);
  }
}

/** `a[b][]` → ['a', 'b', '']. */
export function parseKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open === -1) return [key];
  const head = key.slice(0, open);
  const segments = [head];
  let rest = key.slice(open);
  while (rest.length > 0) {
    const match = /^\[([^[\]]*)\]/.exec(rest);
    if (!match) throw new FormDecodeError(`Invalid parameter name: ${key}.`, key);
    segments.push(match[1] ?? '');
    rest = rest.slice(match[0].length);
  }
  if (head === '') throw new FormDecodeError(`Invalid parameter name: ${key}.`, key);
  if (segments.length > MAX_DEPTH) throw new FormDecodeError(`The parameter ${key} is nested too deeply.`, key);
  return segments;
}

type Container = FormObject | Array<FormValue | undefined>;

/** Arrays are filled by index (possibly sparse, in any order) and compacted at the end. */
function assign(root: FormObject, path: string[], value: string, key: string): void {
  let container: Container = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i] as string;
    const last = i === path.length - 1;
    const slot = slotFor(container, segment, key);
    const existing = read(container, slot);
    if (last) {
      if (existing !== undefined) throw new FormDecodeError(`Received the parameter ${key} more than once.`, key);
      write(container, slot, value);
      return;
    }
    const next = path[i + 1] as string;
    const wantsArray = next === '' || /^\d+$/.test(next);
    if (existing === undefined) {
      const created: Container = wantsArray ? [] : emptyObject();
      write(container, slot, created as FormValue);
      container = created;
    } else if (typeof existing === 'string' || Array.isArray(existing) !== wantsArray) {
      throw new FormDecodeError(`The parameter ${key} conflicts with another parameter of the same name.`, key);
    } else {
      container = existing as Container;
    }
  }
}

function slotFor(container: Container, segment: string, key: string): string | number {
  if (!Array.isArray(container)) return segment;
  if (segment === '') return container.length;
  const index = Number(segment);
  if (index > MAX_ARRAY_INDEX) throw new FormDecodeError(`The index in ${key} is too large.`, key);
  return index;
}

function read(container: Container, slot: string | number): FormValue | undefined {
  if (Array.isArray(container)) return container[slot as number];
  return Object.hasOwn(container, slot) ? container[slot as string] : undefined;
}

function write(container: Container, slot: string | number, value: FormValue): void {
  if (Array.isArray(container)) container[slot as number] = value;
  else container[slot as string] = value;
}

function emptyObject(): FormObject {
  return Object.create(null) as FormObject;
}

/** Sparse arrays (`a[0]`, `a[5]`) close their gaps, as qs does. */
function compact(value: FormValue | undefined): FormValue | undefined {
  if (typeof value === 'string' || value === undefined) return value;
  if (Array.isArray(value)) return value.filter((item) => item !== undefined).map((item) => compact(item) as FormValue);
  for (const key of Object.keys(value)) value[key] = compact(value[key]) as FormValue;
  return value;
}
