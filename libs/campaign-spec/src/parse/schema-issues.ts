import type { z } from 'zod';
import { childSchemas, declaredKeys, literalStrings } from '../spec/schema-navigation.js';
import { closestMatch, didYouMean } from '../text/did-you-mean.js';
import { displayPath } from './diagnostics.js';
import { MAX_LISTED_PER_CHECK } from './work.js';
import type { SpecPath } from './yaml-reader.js';

/** A schema violation in words, at a path; `atKey` points at the key rather than its value. */
export interface SchemaProblem {
  readonly path: SpecPath;
  readonly message: string;
  readonly atKey: boolean;
  /** For a missing key: the key; the problem points at the mapping that lacks it. */
  readonly missingKey?: string;
}

type Issue = z.core.$ZodIssue;

/**
 * Turns zod's issues into problems a user can act on: unknown keys with a suggestion, missing
 * keys at the mapping that lacks them, and for unions the explanation of the alternative the user
 * most likely meant instead of one message per alternative.
 */
export function describeSchemaIssues(
  issues: readonly Issue[],
  schema: z.ZodType,
  value: unknown,
): SchemaProblem[] {
  return describe(issues, [schema], [], value);
}

function describe(
  issues: readonly Issue[],
  roots: readonly z.ZodType[],
  base: SpecPath,
  rootValue: unknown,
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const issue of issues) problems.push(...describeOne(issue, roots, base, rootValue));
  return withoutRedundantMissingKeys(problems);
}

function valueAt(root: unknown, path: SpecPath): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Object.hasOwn(current, key)
      ? (current as Record<string | number, unknown>)[key]
      : undefined;
  }
  return current;
}

function describeOne(
  issue: Issue,
  roots: readonly z.ZodType[],
  base: SpecPath,
  rootValue: unknown,
): SchemaProblem[] {
  const relative = issue.path as (string | number)[];
  const path: SpecPath = [...base, ...relative];
  const value = valueAt(rootValue, path);
  const schemasHere = () => {
    let schemas = [...roots];
    for (const key of relative) schemas = childSchemas(schemas, key);
    return schemas;
  };
  switch (issue.code) {
    case 'unrecognized_keys': {
      const present = new Set(Object.keys((value ?? {}) as object));
      const known = declaredKeys(schemasHere());
      const candidates = known.filter((k) => !present.has(k));
      const where = path.length > 0 ? ` in ${displayPath(path)}` : '';
      const listed: SchemaProblem[] = issue.keys.slice(0, MAX_LISTED_PER_CHECK).map((key) => ({
        path: [...path, key],
        atKey: true,
        message: `unknown key "${key}"${where}${didYouMean(key, candidates.length > 0 ? candidates : known)}`,
      }));
      const more = issue.keys.length - listed.length;
      if (more > 0) {
        listed.push({
          path: [...path, issue.keys[listed.length]!],
          atKey: true,
          message: `and ${more} more unknown keys${where} (only the first ${listed.length} are listed)`,
        });
      }
      return listed;
    }
    case 'invalid_type': {
      if (value === undefined && path.length > 0) {
        const parent = path.slice(0, -1);
        const where = parent.length > 0 ? displayPath(parent) : 'the spec';
        const missingKey = String(path[path.length - 1]);
        // In mappings that tolerate unknown keys, a typo would otherwise go unmentioned.
        const written = Object.keys((valueAt(rootValue, parent) ?? {}) as object);
        const typo = closestMatch(missingKey, written);
        return [
          {
            path: parent,
            atKey: true,
            missingKey,
            message: `${where} is missing the required key "${missingKey}"${typo ? ` (is "${typo}" a typo of it?)` : ''}`,
          },
        ];
      }
      const message =
        value === null
          ? `${subject(path)} is empty; it must be ${expected(issue.expected)}`
          : `${subject(path)} must be ${expected(issue.expected)}, not ${describeValue(value)}`;
      return [{ path, atKey: false, message }];
    }
    case 'invalid_union':
      return describeUnion(issue, roots, base, relative, rootValue, value);
    case 'invalid_value': {
      const suggestion =
        typeof value === 'string'
          ? didYouMean(
              value,
              issue.values.filter((v): v is string => typeof v === 'string'),
            )
          : '';
      return [{ path, atKey: false, message: `${subject(path)} ${issue.message}${suggestion}` }];
    }
    default:
      return [{ path, atKey: false, message: `${subject(path)} ${issue.message}` }];
  }
}

function describeUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  roots: readonly z.ZodType[],
  base: SpecPath,
  relative: readonly (string | number)[],
  rootValue: unknown,
  value: unknown,
): SchemaProblem[] {
  const path: SpecPath = [...base, ...relative];
  const unionSchemas = walk(roots, relative);
  const options = unionOptions(unionSchemas);
  const branches = issue.errors.map((branchIssues, i) => {
    const option = options[i];
    const problems = describe(branchIssues, option ? [option] : [], path, rootValue);
    const failsAtRoot = branchIssues.some(
      (b) =>
        b.path.length === 0 &&
        (b.code === 'invalid_type' || b.code === 'invalid_value' || b.code === 'invalid_union'),
    );
    return { problems, failsAtRoot };
  });
  const plausible = branches.filter((b) => !b.failsAtRoot);
  if (plausible.length === 0 || issue.errors.length === 0) {
    const suggestion =
      typeof value === 'string' ? didYouMean(value, literalStrings(unionSchemas)) : '';
    return [{ path, atKey: false, message: `${subject(path)} ${issue.message}${suggestion}` }];
  }
  const score = (b: (typeof plausible)[number]) => {
    // An unknown key that is a typo of a key this alternative declares marks the intended one.
    const typoBonus = b.problems.some((p) => p.message.includes('did you mean')) ? -0.5 : 0;
    return b.problems.length + typoBonus;
  };
  const best = plausible.reduce((a, b) => (score(b) < score(a) ? b : a));
  return best.problems;
}

function walk(roots: readonly z.ZodType[], relative: readonly (string | number)[]): z.ZodType[] {
  let schemas = [...roots];
  for (const key of relative) schemas = childSchemas(schemas, key);
  return schemas;
}

/** The direct alternatives of the (first) union among `schemas`, in declaration order. */
function unionOptions(schemas: readonly z.ZodType[]): z.ZodType[] {
  for (const schema of schemas) {
    let current: z.ZodType = schema;
    for (;;) {
      const d = current._zod.def as unknown as {
        type: string;
        innerType?: z.ZodType;
        in?: z.ZodType;
        options?: z.ZodType[];
      };
      if (d.type === 'union' && d.options) return d.options;
      if (d.innerType) current = d.innerType;
      else if (d.type === 'pipe' && d.in) current = d.in;
      else break;
    }
  }
  return [];
}

/** "missing key K" is noise when the same mapping has an unknown key that is a typo of K. */
function withoutRedundantMissingKeys(problems: SchemaProblem[]): SchemaProblem[] {
  /** The keys problems point at, by the path of their mapping. */
  const keysIn = new Map<string, string[]>();
  for (const p of problems) {
    if (!p.atKey || p.missingKey !== undefined || p.path.length === 0) continue;
    const parent = JSON.stringify(p.path.slice(0, -1));
    const keys = keysIn.get(parent) ?? [];
    keys.push(String(p.path[p.path.length - 1]));
    keysIn.set(parent, keys);
  }
  return problems.filter((p) => {
    const missingKey = p.missingKey;
    if (missingKey === undefined) return true;
    return !(keysIn.get(JSON.stringify(p.path)) ?? []).some(
      (key) => closestMatch(key, [missingKey]) === missingKey,
    );
  });
}

function subject(path: SpecPath): string {
  return path.length === 0 ? 'the spec' : displayPath(path);
}

function expected(type: string): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'number':
    case 'int':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'null':
      return 'empty';
    default:
      return `a ${type}`;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? 'a string' : `the string ${JSON.stringify(value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}
