import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import type { SpecWork } from './work.js';

/** A problem found while indexing: a duplicate key (recoverable) or an alias inside its own value. */
export interface IndexProblem {
  readonly offset: number;
  readonly message: string;
  readonly recoverable: boolean;
}

/** What one pass over the document learned: where each alias points. */
export interface DocumentIndex {
  /** The node each alias refers to: the nearest anchor of its name before it. */
  readonly targets: ReadonlyMap<Alias, Node>;
  readonly problems: readonly IndexProblem[];
}

/**
 * Visits every node of the document once, in document order, to resolve each alias to its anchor
 * (the YAML library's `Alias.resolve` walks the whole document for every alias) and to find
 * duplicate keys. Keys are compared as the reader names them (`1` and `"1"` are the same key).
 */
export function indexDocument(doc: Document.Parsed, work: SpecWork): DocumentIndex {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  const problems: IndexProblem[] = [];
  /** Anchored nodes whose contents are being visited: an alias to one of them is a cycle. */
  const open = new Set<Node>();
  type Step = { node: unknown } | { leave: Node };
  const stack: Step[] = [{ node: doc.contents }];
  while (stack.length > 0) {
    const step = stack.pop()!;
    if ('leave' in step) {
      open.delete(step.leave);
      continue;
    }
    const node = step.node;
    if (node == null || typeof node !== 'object') continue;
    work.indexed += 1;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target && open.has(target)) {
        problems.push({
          offset: node.range?.[0] ?? 0,
          message: `alias "*${node.source}" is used inside the value it names; a value cannot contain itself`,
          recoverable: false,
        });
      } else if (target) {
        targets.set(node, target);
      }
      continue;
    }
    const anchored = node as Node;
    if (anchored.anchor) {
      anchors.set(anchored.anchor, anchored);
      open.add(anchored);
      stack.push({ leave: anchored });
    }
    if (isMap(node)) {
      const keys = new Set<string>();
      const children: unknown[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (isScalar(pair.key)) {
          const key = pair.key.value == null ? '' : String(pair.key.value);
          if (keys.has(key)) {
            problems.push({
              offset: pair.key.range?.[0] ?? 0,
              message:
                key === ''
                  ? 'duplicate key in this mapping; each key may appear once'
                  : `duplicate key "${key}"; each key may appear once in a mapping`,
              recoverable: true,
            });
          }
          keys.add(key);
        }
        children.push(pair.key, pair.value);
      }
      // Last pushed is visited first: push in reverse to visit in document order.
      for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i] });
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push({ node: node.items[i] });
    }
  }
  return { targets, problems };
}
