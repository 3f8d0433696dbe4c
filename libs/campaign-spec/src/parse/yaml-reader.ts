import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
  type Scalar,
} from 'yaml';
import type { z } from 'zod';
import { childSchemas, expectsOnlyString } from '../spec/schema-navigation.js';
import type { SourcePosition } from './diagnostics.js';

/** A path into the spec: keys of mappings and indexes of lists. */
export type SpecPath = readonly (string | number)[];

/** Where a value (and, inside a mapping, its key) is written in the file. */
export interface Located {
  /** The key's source range [start, end) for values inside a mapping. */
  readonly keyRange?: readonly [number, number];
  /** The node holding the value; absent for `key:` with nothing after it. */
  readonly node?: Node;
  /** The value's source range [start, end). */
  readonly valueRange: readonly [number, number];
}

/** A YAML problem found while reading: syntax, duplicate keys, aliases. */
export interface ReadProblem {
  readonly offset: number;
  readonly message: string;
  /** Whether the document's structure can still be trusted (duplicate keys: yes; syntax: no). */
  readonly recoverable: boolean;
  readonly severity?: 'warning';
}

/** The spec file read into plain data, with the location of every value. */
export interface ReadSpec {
  readonly value: unknown;
  readonly problems: ReadProblem[];
  readonly lineCounter: LineCounter;
  readonly text: string;
  /** Where each path is written; see `locate`. */
  readonly locations: ReadonlyMap<string, Located>;
}

/** Expanding aliases beyond this many nodes is refused (a "billion laughs" document). */
const MAX_NODES = 200_000;

export function pathKey(path: SpecPath): string {
  return JSON.stringify(path);
}

/** The location of `path`, or of its nearest located ancestor. */
export function locate(spec: ReadSpec, path: SpecPath): Located | undefined {
  for (let n = path.length; n >= 0; n--) {
    const found = spec.locations.get(pathKey(path.slice(0, n)));
    if (found) return found;
  }
  return undefined;
}

/** 1-based line and column of a source offset. */
export function positionOf(spec: Pick<ReadSpec, 'lineCounter'>, offset: number): SourcePosition {
  const { line, col } = spec.lineCounter.linePos(offset);
  return { line, column: col };
}

/**
 * Reads YAML into plain data guided by the schema: a plain (unquoted) scalar where the schema
 * expects only a string is taken as written, so `branch: 3.10` means the branch "3.10", not the
 * number 3.1.
 */
export function readSpecYaml(original: string, schema: z.ZodType): ReadSpec {
  const { text, lineCounter, docs, repairedAt } = parseLeniently(original);
  const problems: ReadProblem[] = [];
  const locations = new Map<string, Located>();
  const doc = docs[0];
  const read: ReadSpec = { value: null, problems, lineCounter, text, locations };
  if (!doc) return read;
  for (const offset of repairedAt) {
    problems.push({
      offset,
      message:
        'this quoted string continues on lines indented no more than its key; YAML requires indenting them (read as if they were)',
      recoverable: true,
      severity: 'warning',
    });
  }

  for (const extra of docs.slice(1)) {
    problems.push({
      offset: extra.range[0],
      message: 'a spec file holds one YAML document; remove the "---" and what follows it',
      recoverable: true,
    });
  }
  for (const error of doc.errors) {
    const duplicate = error.code === 'DUPLICATE_KEY';
    problems.push({
      offset: error.pos[0],
      message: duplicate ? duplicateKeyMessage(text, error.pos[0]) : yamlMessage(error.message),
      recoverable: duplicate,
    });
  }
  if (problems.some((p) => !p.recoverable)) return read;

  let visited = 0;
  const walk = (
    node: Node | null | undefined,
    path: SpecPath,
    schemas: z.ZodType[],
    depth: number,
    keyRange?: readonly [number, number],
    fallback?: number,
  ): unknown => {
    if (++visited > MAX_NODES) {
      throw new ReadAbort(
        node?.range?.[0] ?? 0,
        `the document expands to more than ${MAX_NODES} values (through aliases); simplify it`,
      );
    }
    if (depth > 64)
      throw new ReadAbort(node?.range?.[0] ?? 0, 'the document is nested more than 64 levels deep');
    const range: readonly [number, number] = node?.range
      ? [node.range[0], node.range[1]]
      : [fallback ?? keyRange?.[1] ?? 0, fallback ?? keyRange?.[1] ?? 0];
    locations.set(pathKey(path), { keyRange, node: node ?? undefined, valueRange: range });
    if (node == null) return null;
    if (isAlias(node)) {
      const target = node.resolve(doc as Document);
      if (!target) throw new ReadAbort(range[0], `unknown alias "*${node.source}"`);
      const value = walk(target, path, schemas, depth + 1, keyRange);
      locations.set(pathKey(path), { keyRange, node, valueRange: range });
      return value;
    }
    if (isScalar(node)) return scalarValue(node, schemas);
    if (isMap(node)) {
      const result: Record<string, unknown> = {};
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        if (keyNode != null && !isScalar(keyNode)) {
          throw new ReadAbort(keyNode.range?.[0] ?? range[0], 'mapping keys must be plain strings');
        }
        const key = keyNode == null || keyNode.value == null ? '' : String(keyNode.value);
        const kRange: readonly [number, number] = keyNode?.range
          ? [keyNode.range[0], keyNode.range[1]]
          : [range[0], range[0]];
        Object.defineProperty(result, key, {
          value: walk(
            pair.value as Node | null,
            [...path, key],
            childSchemas(schemas, key),
            depth + 1,
            kRange,
            kRange[1],
          ),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return result;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) =>
        walk(
          item as Node | null,
          [...path, i],
          childSchemas(schemas, i),
          depth + 1,
          undefined,
          range[0],
        ),
      );
    }
    return null;
  };

  try {
    return { ...read, value: walk(doc.contents as Node | null, [], [schema], 0) };
  } catch (err) {
    if (err instanceof ReadAbort) {
      problems.push({ offset: err.offset, message: err.message, recoverable: false });
      return read;
    }
    throw err;
  }
}

interface Parsed {
  text: string;
  lineCounter: LineCounter;
  docs: Document.Parsed[];
  /** Offsets of the quoted strings whose continuation lines were indented to read the file. */
  repairedAt: number[];
}

function parseText(text: string): Omit<Parsed, 'repairedAt'> {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  return { text, lineCounter, docs: Array.isArray(documents) ? documents : [] };
}

/**
 * Parses the text; when a quoted string's continuation lines are not indented past its key (YAML
 * forbids it, but the Go parser Sourcegraph uses accepts it), indents them and parses again. Only
 * leading whitespace inside quoted strings changes, which YAML folds away, so values are the same;
 * columns on those lines shift.
 */
function parseLeniently(original: string): Parsed {
  let parsed = parseText(original);
  const repairedAt: number[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const missing = parsed.docs[0]?.errors.find(
      (e) => e.code === 'MISSING_CHAR' && /quote/.test(e.message),
    );
    if (!missing) break;
    const repaired = indentQuotedContinuation(parsed.text, missing.pos[0]);
    if (!repaired) break;
    const next = parseText(repaired.text);
    if ((next.docs[0]?.errors.length ?? 1) >= (parsed.docs[0]?.errors.length ?? 0)) break;
    parsed = next;
    repairedAt.push(repaired.quoteAt);
  }
  if (repairedAt.length > 0 && (parsed.docs[0]?.errors.length ?? 0) > 0) {
    return { ...parseText(original), repairedAt: [] };
  }
  return { ...parsed, repairedAt };
}

function indentQuotedContinuation(
  text: string,
  errorOffset: number,
): { text: string; quoteAt: number } | undefined {
  // The string's first line is the line before where YAML gave up on it.
  const lineEnd = text.lastIndexOf('\n', Math.max(0, errorOffset - 1));
  const lineStart = text.lastIndexOf('\n', lineEnd - 1) + 1;
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const m = /^(\s*)(?:-\s+)?[^"'#]*?:\s+(["'])/.exec(line) ?? /^(\s*)-\s+(["'])/.exec(line);
  if (!m) return undefined;
  const indent = m[1]!.length;
  const quote = m[2]!;
  const quoteAt = lineStart + m[0].length - 1;
  let close = -1;
  for (let i = quoteAt + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else {
        close = i;
        break;
      }
    }
  }
  if (close < 0) return undefined;
  const body = text
    .slice(quoteAt, close)
    .replace(/\n([ \t]*)(?=[^\s])/g, (whole, spaces: string) =>
      spaces.length > indent ? whole : `\n${' '.repeat(indent + 1)}`,
    );
  return { text: text.slice(0, quoteAt) + body + text.slice(close), quoteAt };
}

class ReadAbort extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

function scalarValue(node: Scalar, schemas: readonly z.ZodType[]): unknown {
  const value: unknown = node.value;
  if (
    node.type === 'PLAIN' &&
    (typeof value === 'number' || typeof value === 'boolean') &&
    typeof node.source === 'string' &&
    expectsOnlyString(schemas)
  ) {
    return node.source;
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function duplicateKeyMessage(text: string, offset: number): string {
  const key = /^[^:\n]*/.exec(text.slice(offset))?.[0]?.trim() ?? '';
  return key === ''
    ? 'duplicate key in this mapping; each key may appear once'
    : `duplicate key "${key.replace(/^["']|["']$/g, '')}"; each key may appear once in a mapping`;
}

/** YAML's own messages, lower-cased to read as the rest of ours. */
function yamlMessage(message: string): string {
  if (/call stack/i.test(message)) return 'the document is nested too deeply to read';
  const firstLine = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return `YAML syntax error: ${firstLine.charAt(0).toLowerCase()}${firstLine.slice(1)}`;
}
