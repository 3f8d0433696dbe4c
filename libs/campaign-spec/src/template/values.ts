/**
 * The values templates compute with: the JSON-like data they are given, plus "no value" for a
 * key that is absent. Maps are plain objects or `Map`s; only their own data properties are ever
 * read, so nothing reaches a prototype, a getter or a function.
 */

/** What a missing map key evaluates to (Go's `<no value>`); it prints as nothing. */
export const NO_VALUE: unique symbol = Symbol('no value');
export type NoValue = typeof NO_VALUE;

export type Kind = 'string' | 'number' | 'bool' | 'nil' | 'missing' | 'list' | 'map';

export type TemplateMap = Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>;

/** Data that is not JSON-like (a function, a Date, a class instance, a getter). */
export class UnsupportedValueError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function kindOf(value: unknown): Kind {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'number';
    case 'boolean':
      return 'bool';
    case 'undefined':
      return 'missing';
    case 'symbol':
      if (value === NO_VALUE) return 'missing';
      break;
    case 'object':
      if (value === null) return 'nil';
      if (Array.isArray(value)) return 'list';
      if (value instanceof Map || isPlainObject(value)) return 'map';
      break;
  }
  throw new UnsupportedValueError(
    `template data holds a value templates cannot use (${describeForeign(value)})`,
  );
}

function describeForeign(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object that is not a plain object, array or Map';
  return `a ${typeof value}`;
}

/** Words for error messages. */
export function kindName(kind: Kind): string {
  switch (kind) {
    case 'bool':
      return 'boolean';
    case 'missing':
      return 'no value';
    default:
      return kind;
  }
}

export function describeValue(value: unknown): string {
  const kind = kindOf(value);
  switch (kind) {
    case 'string': {
      const text = value as string;
      return `string ${JSON.stringify(text.length > 40 ? `${text.slice(0, 39)}…` : text)}`;
    }
    case 'number':
    case 'bool':
      return `${kindName(kind)} ${String(value)}`;
    default:
      return kindName(kind);
  }
}

/** An own data property or Map entry; NO_VALUE when absent. */
export function mapGet(map: TemplateMap, key: string): unknown {
  if (map instanceof Map) {
    return map.has(key) ? (map.get(key) as unknown) : NO_VALUE;
  }
  const descriptor = Object.getOwnPropertyDescriptor(map, key);
  if (!descriptor) return NO_VALUE;
  if (!('value' in descriptor)) {
    throw new UnsupportedValueError(
      `template data has an accessor property ${JSON.stringify(key)}`,
    );
  }
  return descriptor.value === undefined ? NO_VALUE : (descriptor.value as unknown);
}

/** Keys in Go's order for maps with string keys: by code point (bytewise UTF-8), as range and print use. */
export function mapKeys(map: TemplateMap): string[] {
  const keys =
    map instanceof Map
      ? [...map.keys()].filter((key): key is string => typeof key === 'string')
      : Object.keys(map);
  return keys.sort(compareStrings);
}

export function mapSize(map: TemplateMap): number {
  return map instanceof Map ? mapKeys(map).length : Object.keys(map).length;
}

/** Orders strings by code point, which is Go's bytewise order of their UTF-8 encodings. */
export function compareStrings(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointOrder(x) - codePointOrder(y);
  }
  return a.length - b.length;
}

/** Surrogates (astral code points) sort after U+E000–U+FFFF in code point order but before them in UTF-16. */
function codePointOrder(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Go's truth: false, 0, nil, no value and empty strings, lists and maps are false. */
export function isTrue(value: unknown): boolean {
  switch (kindOf(value)) {
    case 'bool':
      return value as boolean;
    case 'number':
      return value !== 0;
    case 'string':
      return (value as string).length > 0;
    case 'list':
      return (value as readonly unknown[]).length > 0;
    case 'map':
      return mapSize(value as TemplateMap) > 0;
    default:
      return false;
  }
}

/** UTF-8 length of a JavaScript string without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
