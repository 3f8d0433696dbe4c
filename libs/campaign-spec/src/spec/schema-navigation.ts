import type { z } from 'zod';

/**
 * Read-only navigation of the zod definition, so that messages and the YAML reader can ask "which
 * keys are allowed here?" and "is a string expected here?" without a second description of the
 * language.
 */

type Schema = z.ZodType;

interface Def {
  type: string;
  innerType?: Schema;
  in?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  options?: readonly Schema[];
  valueType?: Schema;
  catchall?: Schema;
  values?: readonly unknown[];
}

function def(schema: Schema): Def {
  return schema._zod.def as unknown as Def;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch']);

/** The schemas a value must match, with wrappers (optional, default, transform…) and unions removed. */
function alternatives(schema: Schema): Schema[] {
  let current = schema;
  for (;;) {
    const d = def(current);
    if (WRAPPERS.has(d.type) && d.innerType) current = d.innerType;
    else if (d.type === 'pipe' && d.in) current = d.in;
    else break;
  }
  const d = def(current);
  if (d.type === 'union' && d.options) return d.options.flatMap(alternatives);
  return [current];
}

/** The schemas of the child at `key` of a value matching any of `schemas`. */
export function childSchemas(schemas: readonly Schema[], key: string | number): Schema[] {
  const children: Schema[] = [];
  for (const schema of schemas.flatMap(alternatives)) {
    const d = def(schema);
    if (typeof key === 'number' && d.type === 'array' && d.element) children.push(d.element);
    if (typeof key === 'string' && d.type === 'object') {
      const child = d.shape && Object.hasOwn(d.shape, key) ? d.shape[key] : undefined;
      if (child) children.push(child);
      else if (d.catchall && def(d.catchall).type !== 'never') children.push(d.catchall);
    }
    if (typeof key === 'string' && d.type === 'record' && d.valueType) children.push(d.valueType);
  }
  return children;
}

/** The keys that objects matching any of `schemas` declare. */
export function declaredKeys(schemas: readonly Schema[]): string[] {
  const keys = new Set<string>();
  for (const schema of schemas.flatMap(alternatives)) {
    const d = def(schema);
    if (d.type === 'object') for (const key of Object.keys(d.shape ?? {})) keys.add(key);
  }
  return [...keys];
}

/** Whether every alternative is a plain string (so a YAML scalar can be read as written). */
export function expectsOnlyString(schemas: readonly Schema[]): boolean {
  const all = schemas.flatMap(alternatives);
  return all.length > 0 && all.every((s) => def(s).type === 'string');
}

/** The literal string values the alternatives accept (enums and literals), for suggestions. */
export function literalStrings(schemas: readonly Schema[]): string[] {
  const values: string[] = [];
  for (const schema of schemas.flatMap(alternatives)) {
    const d = def(schema);
    if (d.type === 'literal' || d.type === 'enum') {
      const raw =
        d.values ?? Object.values((d as { entries?: Record<string, unknown> }).entries ?? {});
      for (const v of raw) if (typeof v === 'string') values.push(v);
    }
  }
  return values;
}

/**
 * `childSchemas` and `expectsOnlyString` for walks that ask at every value, answered once per
 * distinct question: the same schemas (by identity) and key always have the same answer.
 */
export class SchemaCache {
  private readonly children = new WeakMap<readonly Schema[], Map<string | number, Schema[]>>();
  private readonly onlyStrings = new WeakMap<readonly Schema[], boolean>();
  private readonly uniform = new WeakMap<readonly Schema[], Schema | null>();

  /** `childSchemas`; every list index has the same answer. */
  child(schemas: readonly Schema[], key: string | number): readonly Schema[] {
    const k = typeof key === 'number' ? 0 : key;
    let known = this.children.get(schemas);
    if (!known) {
      known = new Map();
      this.children.set(schemas, known);
    }
    let found = known.get(k);
    if (!found) {
      found = childSchemas(schemas, k);
      known.set(k, found);
    }
    return found;
  }

  /** The schema of every child when `schemas` is one record or one array; else undefined. */
  each(schemas: readonly Schema[]): Schema | undefined {
    let found = this.uniform.get(schemas);
    if (found === undefined) {
      const all = schemas.flatMap(alternatives);
      const d = all.length === 1 ? def(all[0]!) : undefined;
      found = d?.type === 'record' ? d.valueType : d?.type === 'array' ? d.element : undefined;
      this.uniform.set(schemas, found ?? null);
    }
    return found ?? undefined;
  }

  onlyString(schemas: readonly Schema[]): boolean {
    let found = this.onlyStrings.get(schemas);
    if (found === undefined) {
      found = expectsOnlyString(schemas);
      this.onlyStrings.set(schemas, found);
    }
    return found;
  }
}
