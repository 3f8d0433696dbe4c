import type { TemplateErrorCode } from './errors.js';
import { sprint, sprintf, sprintln, type FormatContext } from './format.js';
import { compileGlob, GlobError, matchGlob } from './glob.js';
import { FORBIDDEN_NAMES } from './namespaces.js';
import {
  compareStrings,
  describeValue,
  isTrue,
  kindName,
  kindOf,
  mapGet,
  mapSize,
  NO_VALUE,
  type Kind,
  type TemplateMap,
} from './values.js';

/**
 * The functions templates may call: Go's text/template built-ins with their semantics, and the
 * helpers Sourcegraph adds for batch specs (join, join_if, replace, split, matches).
 */

/** What a function needs from the evaluator: where its arguments are, and the limits. */
export interface CallContext {
  readonly name: string;
  /** Throws a TemplateError pointing at argument `argument` (0-based), or at the call when undefined. */
  fail(code: TemplateErrorCode, detail: string, argument?: number): never;
  readonly format: FormatContext;
  /** Largest string (in UTF-16 code units) a function may return. */
  readonly maxStringLength: number;
}

interface TemplateFunction {
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly call: (args: readonly unknown[], context: CallContext) => unknown;
}

/** `and` and `or` evaluate their arguments lazily; the evaluator implements them, this only checks arity. */
const lazy = (): never => {
  throw new Error('and/or are evaluated by the evaluator');
};

const BUILTINS: ReadonlyArray<[string, TemplateFunction]> = [
  ['and', { minArgs: 1, maxArgs: Infinity, call: lazy }],
  ['or', { minArgs: 1, maxArgs: Infinity, call: lazy }],
  ['not', { minArgs: 1, maxArgs: 1, call: ([value]) => !isTrue(value) }],
  ['len', { minArgs: 1, maxArgs: 1, call: ([value], context) => length(value, context) }],
  ['index', { minArgs: 1, maxArgs: Infinity, call: (args, context) => index(args, context) }],
  ['slice', { minArgs: 1, maxArgs: 4, call: (args, context) => slice(args, context) }],
  [
    'eq',
    {
      minArgs: 2,
      maxArgs: Infinity,
      call: (args, context) =>
        args.slice(1).some((_, i) => equal(args[0], args[i + 1], i + 1, context)),
    },
  ],
  ['ne', { minArgs: 2, maxArgs: 2, call: ([a, b], context) => !equal(a, b, 1, context) }],
  ['lt', { minArgs: 2, maxArgs: 2, call: ([a, b], context) => less(a, b, context) }],
  [
    'le',
    {
      minArgs: 2,
      maxArgs: 2,
      call: ([a, b], context) => less(a, b, context) || equal(a, b, 1, context),
    },
  ],
  [
    'gt',
    {
      minArgs: 2,
      maxArgs: 2,
      call: ([a, b], context) => !(less(a, b, context) || equal(a, b, 1, context)),
    },
  ],
  ['ge', { minArgs: 2, maxArgs: 2, call: ([a, b], context) => !less(a, b, context) }],
  [
    'print',
    { minArgs: 0, maxArgs: Infinity, call: (args, context) => sprint(args, context.format) },
  ],
  [
    'println',
    { minArgs: 0, maxArgs: Infinity, call: (args, context) => sprintln(args, context.format) },
  ],
  [
    'printf',
    {
      minArgs: 1,
      maxArgs: Infinity,
      call: (args, context) =>
        sprintf(stringArgument(args, 0, context, 'the format'), args.slice(1), context.format),
    },
  ],
];

const HELPERS: ReadonlyArray<[string, TemplateFunction]> = [
  ['join', { minArgs: 2, maxArgs: 2, call: (args, context) => join(args, context) }],
  ['join_if', { minArgs: 1, maxArgs: Infinity, call: (args, context) => joinIf(args, context) }],
  ['replace', { minArgs: 3, maxArgs: 3, call: (args, context) => replace(args, context) }],
  ['split', { minArgs: 2, maxArgs: 2, call: (args, context) => split(args, context) }],
  ['matches', { minArgs: 2, maxArgs: 2, call: (args, context) => matches(args, context) }],
];

const FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map([...BUILTINS, ...HELPERS]);

/** Every function a template may call: Go's built-ins, then Sourcegraph's helpers. */
export const TEMPLATE_FUNCTIONS: readonly string[] = Object.freeze([...FUNCTIONS.keys()]);

/** Sourcegraph's batch spec helpers alone. */
export const TEMPLATE_HELPERS: readonly string[] = Object.freeze(HELPERS.map(([name]) => name));

export function isTemplateFunction(name: string): boolean {
  return FUNCTIONS.has(name);
}

export function templateFunction(name: string): TemplateFunction | undefined {
  return FUNCTIONS.get(name);
}

export function checkArity(name: string, count: number, context: CallContext): void {
  const fn = FUNCTIONS.get(name);
  if (!fn || (count >= fn.minArgs && count <= fn.maxArgs)) return;
  let want: string;
  if (fn.maxArgs === Infinity) want = `at least ${fn.minArgs}`;
  else if (fn.minArgs === fn.maxArgs) want = String(fn.minArgs);
  else want = `${fn.minArgs} to ${fn.maxArgs}`;
  context.fail('wrong-arity', `wrong number of arguments for ${name}: want ${want}, got ${count}`);
}

// --- argument checks -------------------------------------------------------------------------

function ordinal(position: number): string {
  return `argument ${position + 1}`;
}

/** A string argument; no value counts as the empty string. */
function stringArgument(
  args: readonly unknown[],
  position: number,
  context: CallContext,
  role: string,
): string {
  const value = args[position];
  if (typeof value === 'string') return value;
  if (value === NO_VALUE || value === undefined) return '';
  return context.fail(
    'wrong-type',
    `${context.name}: ${ordinal(position)} (${role}) must be a string, got ${describeValue(value)}`,
    position,
  );
}

function stringListArgument(
  args: readonly unknown[],
  position: number,
  context: CallContext,
  role: string,
): string[] {
  const value = args[position];
  if (kindOf(value) !== 'list') {
    return context.fail(
      'wrong-type',
      `${context.name}: ${ordinal(position)} (${role}) must be a list of strings, got ${describeValue(value)}`,
      position,
    );
  }
  const list = value as readonly unknown[];
  list.forEach((item, itemIndex) => {
    if (typeof item !== 'string') {
      context.fail(
        'wrong-type',
        `${context.name}: ${ordinal(position)} (${role}) must be a list of strings, but item ${itemIndex} is ${describeValue(item ?? null)}`,
        position,
      );
    }
  });
  return list as string[];
}

function checkedLength(length: number, context: CallContext): void {
  if (length > context.maxStringLength) {
    context.fail(
      'output-limit',
      `${context.name} would produce ${length} characters, more than the limit of ${context.maxStringLength}`,
    );
  }
}

// --- built-ins -------------------------------------------------------------------------------

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

function length(value: unknown, context: CallContext): number {
  switch (kindOf(value)) {
    case 'string':
      // Go's len counts bytes.
      return utf8Encoder.encode(value as string).length;
    case 'list':
      return (value as readonly unknown[]).length;
    case 'map':
      return mapSize(value as TemplateMap);
    case 'missing':
      return 0;
    default:
      return context.fail('wrong-type', `len of ${describeValue(value)}`, 0);
  }
}

function integerIndex(
  value: unknown,
  position: number,
  context: CallContext,
  what: string,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return context.fail(
      'wrong-type',
      `${context.name}: cannot index ${what} with ${describeValue(value ?? null)}`,
      position,
    );
  }
  return value;
}

function index(args: readonly unknown[], context: CallContext): unknown {
  let item = args[0];
  for (let position = 1; position < args.length; position++) {
    const key = args[position];
    const kind = kindOf(item);
    switch (kind) {
      case 'list': {
        const list = item as readonly unknown[];
        const at = integerIndex(key, position, context, 'a list');
        if (at < 0 || at >= list.length) {
          context.fail(
            'index-out-of-range',
            `index out of range: ${at} (the list has ${list.length} items)`,
            position,
          );
        }
        item = list[at] ?? null;
        break;
      }
      case 'map': {
        if (typeof key !== 'string') {
          context.fail(
            'wrong-type',
            `index: cannot index a map with ${describeValue(key ?? null)}; keys are strings`,
            position,
          );
        }
        if (FORBIDDEN_NAMES.has(key))
          context.fail(
            'forbidden-name',
            `index: key ${JSON.stringify(key)} is not allowed`,
            position,
          );
        // A missing key is no value, not an error: `index outputs "name"` is how a template asks whether an output exists.
        item = mapGet(item as TemplateMap, key);
        break;
      }
      case 'string': {
        const bytes = utf8Encoder.encode(item as string);
        const at = integerIndex(key, position, context, 'a string');
        if (at < 0 || at >= bytes.length) {
          context.fail(
            'index-out-of-range',
            `index out of range: ${at} (the string has ${bytes.length} bytes)`,
            position,
          );
        }
        item = bytes[at];
        break;
      }
      default:
        context.fail('wrong-type', `index of ${describeValue(item)}`, position - 1);
    }
  }
  return item;
}

function slice(args: readonly unknown[], context: CallContext): unknown {
  const item = args[0];
  const kind = kindOf(item);
  if (kind !== 'list' && kind !== 'string') {
    return context.fail('wrong-type', `slice of ${describeValue(item)}`, 0);
  }
  if (kind === 'string' && args.length === 4) {
    return context.fail('wrong-type', 'cannot 3-index slice a string', 3);
  }
  const bytes = kind === 'string' ? utf8Encoder.encode(item as string) : undefined;
  const size = bytes ? bytes.length : (item as readonly unknown[]).length;
  const indexes = [0, size];
  for (let position = 1; position < args.length; position++) {
    const at = integerIndex(
      args[position],
      position,
      context,
      kind === 'string' ? 'a string' : 'a list',
    );
    if (at < 0 || at > size) {
      context.fail(
        'index-out-of-range',
        `index out of range: ${at} (the ${kind} has ${size} ${bytes ? 'bytes' : 'items'})`,
        position,
      );
    }
    indexes[position - 1] = at;
  }
  for (let position = 2; position < args.length; position++) {
    const previous = indexes[position - 2];
    const current = position === 3 ? (args[3] as number) : indexes[position - 1];
    if (previous > current) {
      context.fail('index-out-of-range', `invalid slice index: ${previous} > ${current}`, position);
    }
  }
  const [start, end] = indexes;
  if (bytes) return utf8Decoder.decode(bytes.slice(start, end));
  return (item as readonly unknown[]).slice(start, end);
}

type BasicKind = 'string' | 'number' | 'bool' | 'nil';

function basicKind(kind: Kind): BasicKind | undefined {
  if (kind === 'missing' || kind === 'nil') return 'nil';
  if (kind === 'string' || kind === 'number' || kind === 'bool') return kind;
  return undefined;
}

/** Go's eq for two values: basic kinds compare by value, nil equals only nil, others cannot be compared. */
function equal(a: unknown, b: unknown, position: number, context: CallContext): boolean {
  const kindA = kindOf(a);
  const kindB = kindOf(b);
  const basicA = basicKind(kindA);
  const basicB = basicKind(kindB);
  if (basicA === 'nil' || basicB === 'nil') return basicA === basicB;
  if (!basicA || !basicB) {
    const offending = basicA ? b : a;
    return context.fail(
      'bad-comparison',
      `${context.name}: cannot compare ${kindName(kindOf(offending))} values; only strings, numbers, booleans and nil compare`,
      basicA ? position : 0,
    );
  }
  if (basicA !== basicB) {
    return context.fail(
      'bad-comparison',
      `${context.name}: incompatible types for comparison: ${describeValue(a)} and ${describeValue(b)}`,
      position,
    );
  }
  return a === b;
}

/** Go's lt: only strings (by bytes) and numbers are ordered, and only against their own kind. */
function less(a: unknown, b: unknown, context: CallContext): boolean {
  const kindA = kindOf(a);
  const kindB = kindOf(b);
  const ordered = (kind: Kind): boolean => kind === 'string' || kind === 'number';
  if (!ordered(kindA) || !ordered(kindB)) {
    const bad = ordered(kindA) ? 1 : 0;
    return context.fail(
      'bad-comparison',
      `${context.name}: invalid type for comparison: ${describeValue(bad === 0 ? a : b)}; only strings and numbers are ordered`,
      bad,
    );
  }
  if (kindA !== kindB) {
    return context.fail(
      'bad-comparison',
      `${context.name}: incompatible types for comparison: ${describeValue(a)} and ${describeValue(b)}`,
      1,
    );
  }
  if (kindA === 'string') return compareStrings(a as string, b as string) < 0;
  return (a as number) < (b as number);
}

// --- Sourcegraph helpers ---------------------------------------------------------------------

function joinChecked(items: readonly string[], separator: string, context: CallContext): string {
  let total = Math.max(items.length - 1, 0) * separator.length;
  for (const item of items) total += item.length;
  checkedLength(total, context);
  return items.join(separator);
}

function join(args: readonly unknown[], context: CallContext): string {
  const items = stringListArgument(args, 0, context, 'the list');
  const separator = stringArgument(args, 1, context, 'the separator');
  return joinChecked(items, separator, context);
}

function joinIf(args: readonly unknown[], context: CallContext): string {
  const separator = stringArgument(args, 0, context, 'the separator');
  const items = args.slice(1).map((_, i) => stringArgument(args, i + 1, context, 'an item'));
  return joinChecked(
    items.filter((item) => item !== ''),
    separator,
    context,
  );
}

function replace(args: readonly unknown[], context: CallContext): string {
  const text = stringArgument(args, 0, context, 'the text');
  const old = stringArgument(args, 1, context, 'the text to replace');
  const replacement = stringArgument(args, 2, context, 'the replacement');
  if (old === '') {
    // Go's strings.ReplaceAll with an empty old string inserts before every character and at the end.
    const characters = Array.from(text);
    checkedLength(text.length + (characters.length + 1) * replacement.length, context);
    return replacement + characters.map((character) => character + replacement).join('');
  }
  const parts = text.split(old);
  checkedLength(text.length + (parts.length - 1) * (replacement.length - old.length), context);
  return parts.join(replacement);
}

function split(args: readonly unknown[], context: CallContext): string[] {
  const text = stringArgument(args, 0, context, 'the text');
  const separator = stringArgument(args, 1, context, 'the separator');
  // Go's strings.Split with an empty separator splits into characters.
  return separator === '' ? Array.from(text) : text.split(separator);
}

function matches(args: readonly unknown[], context: CallContext): boolean {
  const text = stringArgument(args, 0, context, 'the text');
  const pattern = stringArgument(args, 1, context, 'the glob pattern');
  try {
    return matchGlob(compileGlob(pattern), text);
  } catch (error) {
    if (error instanceof GlobError) return context.fail('bad-glob', `matches: ${error.message}`, 1);
    throw error;
  }
}
