import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Scalar,
  type YAMLMap,
} from 'yaml';
import type { z } from 'zod';
import { SchemaCache } from '../spec/schema-navigation.js';
import type { SourcePosition } from './diagnostics.js';
import { indexDocument, type DocumentIndex } from './yaml-index.js';
import { parseLeniently } from './yaml-parse.js';
import { MAX_SPEC_VALUES, MAX_YAML_TOKENS, newSpecWork, type SpecWork } from './work.js';

/** A path into the spec: keys of mappings and indexes of lists. */
export type SpecPath = readonly (string | number)[];

/** Where a value (and, inside a mapping, its key) is written in the file. */
export interface Located {
  /** Where the key starts, for values inside a mapping. */
  readonly keyOffset?: number;
  /** The node holding the value; absent for `key:` with nothing after it. */
  readonly node?: Node;
  /** Where the value starts (for `key:` with nothing after it: where the key ends). */
  readonly valueOffset: number;
}

/** A YAML problem found while reading: syntax, duplicate keys, aliases, limits. */
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
  /** What reading took; shared with the checks that follow. */
  readonly work: SpecWork;
}

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
 * number 3.1. Merge keys (`<<: *defaults`, `<<: [*a, *b]`) are expanded as YAML 1.1 and the Go
 * parser Sourcegraph uses do: keys written in the mapping win, then the earlier merged mapping.
 *
 * The work is linear in the text: at most MAX_YAML_TOKENS tokens are parsed, each alias is
 * resolved once from an index, and at most MAX_SPEC_VALUES values are produced, counting the
 * values of an alias or merge again at every use (a "billion laughs" document stops there).
 */
export function readSpecYaml(original: string, schema: z.ZodType, work = newSpecWork()): ReadSpec {
  const { text, lineCounter, docs, repairedAt, tooManyTokensAt } = parseLeniently(original, work);
  const problems: ReadProblem[] = [];
  const locations = new Map<string, Located>();
  const doc = docs[0];
  const read: ReadSpec = { value: null, problems, lineCounter, text, locations, work };
  if (tooManyTokensAt !== undefined) {
    problems.push({
      offset: tooManyTokensAt,
      message: `the spec has more than ${MAX_YAML_TOKENS} YAML tokens (keys, values, list dashes, comments, line breaks) and is not read further; split the campaign or move large contents into the step's container image`,
      recoverable: false,
    });
    return read;
  }
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
    problems.push({
      offset: error.pos[0],
      message: yamlMessage(error.message),
      recoverable: false,
    });
  }
  if (problems.some((p) => !p.recoverable)) return read;
  const index = indexDocument(doc, work);
  problems.push(...index.problems);
  if (problems.some((p) => !p.recoverable)) return read;

  try {
    const walker = new ValueWalker(index, locations, work);
    const root = doc.contents as Node | null;
    return { ...read, value: walker.walk(root, pathKey([]), [schema], 0, undefined, 0) };
  } catch (err) {
    if (err instanceof ReadAbort) {
      problems.push({ offset: err.offset, message: err.message, recoverable: false });
      return read;
    }
    throw err;
  }
}

/** One key of a mapping after merge keys are expanded. */
interface Entry {
  readonly key: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly value: Node | null;
}

/** Turns the document into plain values, recording where each path is written. */
class ValueWalker {
  /** The entries of each mapping with merge keys, computed once per mapping. */
  private readonly merged = new Map<YAMLMap, Entry[]>();
  /** Whether an alias or merge key was expanded, for the wording of the budget's message. */
  private expanded = false;
  private readonly schemas = new SchemaCache();

  constructor(
    private readonly index: DocumentIndex,
    private readonly locations: Map<string, Located>,
    private readonly work: SpecWork,
  ) {}

  private charge(offset: number): void {
    this.work.values += 1;
    if (this.work.values > MAX_SPEC_VALUES) {
      throw new ReadAbort(
        offset,
        this.expanded
          ? `the spec expands to more than ${MAX_SPEC_VALUES} values through aliases and merge keys (each use counts the values it names again); use fewer aliases of large values`
          : `the spec has more than ${MAX_SPEC_VALUES} values; split the campaign`,
      );
    }
  }

  /**
   * The value of `node`, at the path whose `pathKey` is `at`; `keyOffset` is where its key starts
   * in a mapping, `nullAt` where to point when there is no node.
   */
  walk(
    node: Node | null | undefined,
    at: string,
    schemas: readonly z.ZodType[],
    depth: number,
    keyOffset: number | undefined,
    nullAt: number,
  ): unknown {
    const offset = node?.range?.[0] ?? nullAt;
    this.charge(offset);
    if (depth > 64) throw new ReadAbort(offset, 'the document is nested more than 64 levels deep');
    this.locations.set(at, { keyOffset, node: node ?? undefined, valueOffset: offset });
    if (node == null) return null;
    if (isAlias(node)) {
      const target = this.index.targets.get(node);
      if (!target) throw new ReadAbort(offset, `unknown alias "*${node.source}"`);
      this.expanded = true;
      const value = this.walk(target, at, schemas, depth + 1, keyOffset, offset);
      this.locations.set(at, { keyOffset, node, valueOffset: offset });
      return value;
    }
    if (isScalar(node)) return scalarValue(node, this.schemas.onlyString(schemas));
    if (isMap(node)) {
      const result: Record<string, unknown> = {};
      const add = (key: string, keyStart: number, keyEnd: number, value: Node | null): void => {
        Object.defineProperty(result, key, {
          value: this.walk(
            value,
            childKey(at, key),
            this.schemas.child(schemas, key),
            depth + 1,
            keyStart,
            keyEnd,
          ),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      };
      if (node.items.some(isMergeKey)) {
        for (const e of this.entriesOf(node, offset, depth))
          add(e.key, e.keyStart, e.keyEnd, e.value);
      } else {
        for (const pair of node.items) {
          const key = keyOf(pair, offset);
          if (key) add(key.key, key.keyStart, key.keyEnd, pair.value as Node | null);
        }
      }
      return result;
    }
    if (isSeq(node)) {
      const items = this.schemas.child(schemas, 0);
      return node.items.map((item, i) =>
        this.walk(item as Node | null, childKey(at, i), items, depth + 1, undefined, offset),
      );
    }
    return null;
  }

  /**
   * The keys of a mapping in order, with each merge key replaced by the keys it brings that the
   * mapping does not write itself (nor an earlier merge). Each merged key is charged to the budget.
   */
  private entriesOf(map: YAMLMap, at: number, depth: number): Entry[] {
    const known = this.merged.get(map);
    if (known) return known;
    if (depth > 64) throw new ReadAbort(at, 'the document is nested more than 64 levels deep');
    const written = new Set<string>();
    for (const pair of map.items) {
      const key = keyOf(pair, at);
      if (key && !isMergeKey(pair)) written.add(key.key);
    }
    const seen = new Set<string>();
    const entries: Entry[] = [];
    for (const pair of map.items) {
      const key = keyOf(pair, at);
      if (!key) continue;
      if (!isMergeKey(pair)) {
        entries.push({ ...key, value: pair.value as Node | null });
        seen.add(key.key);
        continue;
      }
      this.expanded = true;
      for (const source of this.mergeSources(pair.value as Node | null, key.keyStart)) {
        const sourceEntries = source.items.some(isMergeKey)
          ? this.entriesOf(source, at, depth + 1)
          : source.items.flatMap((p) => {
              const k = keyOf(p, at);
              return k ? [{ ...k, value: p.value as Node | null }] : [];
            });
        for (const entry of sourceEntries) {
          this.charge(entry.keyStart);
          if (written.has(entry.key) || seen.has(entry.key)) continue;
          seen.add(entry.key);
          entries.push(entry);
        }
      }
    }
    this.merged.set(map, entries);
    return entries;
  }

  /** The mappings a merge key's value names: one mapping or a list of them, written or aliased. */
  private mergeSources(value: Node | null, at: number): YAMLMap[] {
    const resolve = (node: unknown): unknown =>
      isAlias(node) ? this.index.targets.get(node) : node;
    const target = resolve(value);
    const items = isSeq(target) ? target.items.map(resolve) : [target];
    if (!items.every((item) => isMap(item))) {
      throw new ReadAbort(
        value?.range?.[0] ?? at,
        'a merge key "<<" takes a mapping or a list of mappings (e.g. <<: *defaults or <<: [*a, *b])',
      );
    }
    return items as YAMLMap[];
  }
}

/** `pathKey([...path, key])` from `pathKey(path)`, without serializing the whole path again. */
function childKey(parent: string, key: string | number): string {
  const inner = parent.slice(1, -1);
  return `[${inner}${inner === '' ? '' : ','}${JSON.stringify(key)}]`;
}

/** A mapping key as the reader names it, and where it is written; throws unless a scalar. */
function keyOf(
  pair: unknown,
  at: number,
): { key: string; keyStart: number; keyEnd: number } | undefined {
  if (!isPair(pair)) return undefined;
  const keyNode = pair.key as Node | null;
  if (keyNode != null && !isScalar(keyNode)) {
    throw new ReadAbort(keyNode.range?.[0] ?? at, 'mapping keys must be plain strings');
  }
  const key = keyNode == null || keyNode.value == null ? '' : String(keyNode.value);
  return { key, keyStart: keyNode?.range?.[0] ?? at, keyEnd: keyNode?.range?.[1] ?? at };
}

/** `<<` written plainly is a merge key (YAML 1.1); quoted, it is the text "<<". */
function isMergeKey(pair: unknown): boolean {
  const key = isPair(pair) ? pair.key : undefined;
  return isScalar(key) && key.type === 'PLAIN' && key.value === '<<';
}

class ReadAbort extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

function scalarValue(node: Scalar, onlyString: boolean): unknown {
  const value: unknown = node.value;
  if (
    node.type === 'PLAIN' &&
    (typeof value === 'number' || typeof value === 'boolean') &&
    typeof node.source === 'string' &&
    onlyString
  ) {
    return node.source;
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}

/** YAML's own messages, lower-cased to read as the rest of ours. */
function yamlMessage(message: string): string {
  if (/call stack/i.test(message)) return 'the document is nested too deeply to read';
  const firstLine = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  return `YAML syntax error: ${firstLine.charAt(0).toLowerCase()}${firstLine.slice(1)}`;
}
