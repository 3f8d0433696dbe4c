/**
 * The typed form of a Sourcegraph search query (`on[].repositoriesMatchingQuery`).
 * Offsets are 0-based UTF-16 offsets into the query string; `end` is exclusive.
 */

/** How search patterns are interpreted; `patterntype:` or the spec version decides. */
export type PatternType = 'standard' | 'keyword' | 'literal' | 'regexp' | 'structural';

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** A search pattern: text to find in file contents (or paths, for `type:path`). */
export interface PatternNode {
  readonly kind: 'pattern';
  readonly value: string;
  /** Prefixed by NOT: documents containing it are excluded. */
  readonly negated: boolean;
  /** Written in quotes: matched literally whatever the pattern type. */
  readonly quoted: boolean;
  /** A regular expression: written as /…/ (standard, keyword) or under patterntype:regexp. */
  readonly regexp: boolean;
  readonly span: Span;
}

export type YesNoOnly = 'yes' | 'no' | 'only';

interface FilterCommon {
  readonly kind: 'filter';
  /** `-repo:` or `NOT repo:`. */
  readonly negated: boolean;
  /** The field as written, e.g. `r` or `patternType`. */
  readonly written: string;
  /** The value as written (quotes removed). */
  readonly raw: string;
  readonly span: Span;
  readonly valueSpan: Span;
}

/** A filter with its value parsed, one variant per field (aliases resolved). */
export type FilterNode = FilterCommon &
  (
    | { readonly field: 'repo'; readonly pattern: string }
    | {
        readonly field: 'file' | 'repohasfile' | 'content' | 'author' | 'committer' | 'message';
        readonly pattern: string;
      }
    | { readonly field: 'lang'; readonly language: string }
    | { readonly field: 'fork' | 'archived' | 'index'; readonly value: YesNoOnly }
    | { readonly field: 'visibility'; readonly value: 'any' | 'public' | 'private' }
    | { readonly field: 'count'; readonly value: number | 'all' }
    | { readonly field: 'case'; readonly value: boolean }
    | { readonly field: 'patterntype'; readonly value: PatternType }
    | { readonly field: 'select'; readonly value: string }
    | {
        readonly field: 'type';
        readonly value: 'repo' | 'path' | 'file' | 'symbol' | 'commit' | 'diff';
      }
    | {
        readonly field:
          | 'rev'
          | 'context'
          | 'timeout'
          | 'before'
          | 'after'
          | 'repohascommitafter'
          | 'rule'
          | 'repogroup';
        readonly value: string;
      }
  );

/** `repo:has.file(path:x)`, `file:has.content(y)`, `rev:at.time(…)` and friends. */
export interface PredicateNode {
  readonly kind: 'predicate';
  readonly field: 'repo' | 'file' | 'rev';
  /** e.g. `has.file`, `contains.content`. */
  readonly name: string;
  /** The text between the parentheses. */
  readonly argument: string;
  readonly negated: boolean;
  readonly span: Span;
}

/** All operands must match. */
export interface AndNode {
  readonly kind: 'and';
  readonly operands: readonly QueryNode[];
  readonly span: Span;
}

/** Any operand may match. */
export interface OrNode {
  readonly kind: 'or';
  readonly operands: readonly QueryNode[];
  readonly span: Span;
}

/**
 * Adjacent patterns whose order matters: in literal, standard and structural search they form one
 * text with single spaces between them; in regexp search they are joined by `.*?`.
 */
export interface ConcatNode {
  readonly kind: 'concat';
  readonly operands: readonly PatternNode[];
  readonly span: Span;
}

export type QueryNode = PatternNode | FilterNode | PredicateNode | AndNode | OrNode | ConcatNode;

/** A parsed query. `root` is null for an empty query. */
export interface SearchQuery {
  readonly source: string;
  readonly patternType: PatternType;
  readonly root: QueryNode | null;
}

/** A problem in a query, at its offset; warnings say how a filter will be approximated. */
export interface QueryDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly span: Span;
}

export interface QueryParseResult {
  /** Present when there are no errors. */
  readonly query?: SearchQuery;
  readonly errors: readonly QueryDiagnostic[];
  readonly warnings: readonly QueryDiagnostic[];
}

/** Every filter and predicate in the query, in order, for evaluators. */
export function queryFilters(node: QueryNode | null): (FilterNode | PredicateNode)[] {
  if (!node) return [];
  switch (node.kind) {
    case 'filter':
    case 'predicate':
      return [node];
    case 'and':
    case 'or':
      return node.operands.flatMap(queryFilters);
    default:
      return [];
  }
}
