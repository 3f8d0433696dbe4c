import { closestMatch, didYouMean, editDistance } from '../text/did-you-mean.js';
import {
  FILTER_ALIASES,
  FILTERS,
  PREDICATES,
  resolveFilterName,
  SELECT_VALUES,
  SYMBOL_KINDS,
  type FilterField,
} from './filters.js';
import { COMMIT_DATE_FORMS, parseCommitDate } from './commit-date.js';
import { findLanguage, languageNames } from './languages.js';
import type {
  FilterNode,
  PatternNode,
  PatternType,
  PredicateNode,
  QueryDiagnostic,
  QueryNode,
  QueryParseResult,
  Span,
  YesNoOnly,
} from './query-ast.js';
import { translateRe2 } from './re2.js';

/**
 * Parses a Sourcegraph search query the way Sourcegraph reads it: filters (`repo:`, `-file:`, …),
 * patterns (free text, "quoted", /regexp/), AND / OR / NOT and parentheses, where parentheses
 * that belong to a pattern (`fmt.Sprintf(` … `)`) stay part of it.
 *
 * Errors: unknown filters that are typos of known ones, invalid values, bad regular expressions,
 * unbalanced parentheses, and the filters and predicates Campaigns does not evaluate (commit and
 * symbol search, revisions, Sourcegraph's own metadata, contexts and dependency graphs), each
 * saying why and what to write instead. Warnings: what is evaluated approximately (structural
 * search, scoped regular expression flags, unknown languages), saying how. A word
 * followed by a colon that is not close to any filter (`std::vector`, `golang:1.20`) is a pattern,
 * as on Sourcegraph.
 */
export interface ParseQueryOptions {
  /** The spec's `version`: 1 searches with standard patterns by default, 2 with keyword patterns. */
  readonly version?: 1 | 2;
}

const PATTERN_TYPES: Readonly<Record<string, PatternType>> = {
  standard: 'standard',
  lucky: 'standard',
  newstandardrc1: 'standard',
  keyword: 'keyword',
  literal: 'literal',
  regexp: 'regexp',
  regex: 'regexp',
  structural: 'structural',
};

const MAX_DEPTH = 50;

export function parseSearchQuery(
  source: string,
  options: ParseQueryOptions = {},
): QueryParseResult {
  const patternType = detectPatternType(source) ?? (options.version === 2 ? 'keyword' : 'standard');
  let parser = new QueryParser(source, patternType, false);
  let root = parser.run();
  if (parser.unbalanced) {
    // Like Sourcegraph: when parentheses cannot be groups, read them as part of the patterns.
    const literal = new QueryParser(source, patternType, true);
    const literalRoot = literal.run();
    if (!literal.unbalanced) {
      parser = literal;
      root = literalRoot;
    }
  }
  if (parser.errors.length === 0) checkWholeQuery(parser, root);
  const errors = parser.errors;
  return {
    query: errors.length === 0 ? { source, patternType, root } : undefined,
    errors,
    warnings: errors.length === 0 ? parser.warnings : [],
  };
}

function detectPatternType(source: string): PatternType | undefined {
  const m = /(?:^|[\s(])patterntype:(["']?)([A-Za-z0-9]+)\1(?=$|[\s)])/i.exec(source);
  return m ? patternTypeNamed(m[2]!) : undefined;
}

function patternTypeNamed(name: string): PatternType | undefined {
  const lower = name.toLowerCase();
  return Object.hasOwn(PATTERN_TYPES, lower) ? PATTERN_TYPES[lower] : undefined;
}

class Unbalanced extends Error {}

class QueryParser {
  pos = 0;
  depth = 0;
  unbalanced = false;
  readonly errors: QueryDiagnostic[] = [];
  readonly warnings: QueryDiagnostic[] = [];
  readonly seen = new Map<FilterField, number>();

  constructor(
    readonly src: string,
    readonly patternType: PatternType,
    /** Parentheses are pattern characters, never groups. */
    readonly parensLiteral: boolean,
  ) {}

  run(): QueryNode | null {
    try {
      const node = this.parseOr();
      this.skipSpace();
      if (!this.done()) {
        // Only an unmatched `)` stops the top level early.
        this.unbalanced = true;
        this.error(`unmatched ")"`, { start: this.pos, end: this.pos + 1 });
      }
      return node;
    } catch (err) {
      if (err instanceof Unbalanced) {
        this.unbalanced = true;
        this.error('unbalanced parentheses: a "(" is not closed', {
          start: 0,
          end: this.src.length,
        });
        return null;
      }
      throw err;
    }
  }

  error(message: string, span: Span): void {
    this.errors.push({ severity: 'error', message, span });
  }

  warn(message: string, span: Span): void {
    if (!this.warnings.some((w) => w.message === message)) {
      this.warnings.push({ severity: 'warning', message, span });
    }
  }

  done(): boolean {
    return this.pos >= this.src.length;
  }

  peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  skipSpace(): void {
    while (!this.done() && isSpace(this.peek())) this.pos++;
  }

  /** `and`/`or` between terms: after whitespace or `)`, before whitespace or `(`. */
  atInfixKeyword(keyword: 'and' | 'or'): boolean {
    const before = this.src[this.pos - 1];
    if (this.pos === 0 || !(isSpace(before!) || before === ')')) return false;
    const word = this.src.slice(this.pos, this.pos + keyword.length);
    const after = this.src[this.pos + keyword.length];
    return (
      word.toLowerCase() === keyword &&
      (after === undefined ? false : isSpace(after) || after === '(')
    );
  }

  /** `not` before a term: at the start or after whitespace/parens, followed by whitespace. */
  atNot(): boolean {
    const before = this.src[this.pos - 1];
    if (this.pos > 0 && !(isSpace(before!) || before === '(' || before === ')')) return false;
    const after = this.src[this.pos + 3];
    return (
      this.src.slice(this.pos, this.pos + 3).toLowerCase() === 'not' &&
      after !== undefined &&
      isSpace(after)
    );
  }

  parseOr(): QueryNode | null {
    const start = this.pos;
    const operands: QueryNode[] = [];
    const first = this.parseAnd();
    if (first) operands.push(first);
    for (;;) {
      this.skipSpace();
      if (!this.atInfixKeyword('or')) break;
      const keywordAt = this.pos;
      this.pos += 2;
      const next = this.parseAnd();
      if (!next) {
        this.error('expected a search term after OR', { start: keywordAt, end: keywordAt + 2 });
        break;
      }
      operands.push(next);
    }
    if (operands.length <= 1) return operands[0] ?? null;
    return { kind: 'or', operands: flatten('or', operands), span: { start, end: this.pos } };
  }

  parseAnd(): QueryNode | null {
    const start = this.pos;
    const operands: QueryNode[] = [];
    const first = this.parseSequence();
    if (first) operands.push(first);
    for (;;) {
      this.skipSpace();
      if (!this.atInfixKeyword('and')) break;
      const keywordAt = this.pos;
      this.pos += 3;
      const next = this.parseSequence();
      if (!next) {
        this.error('expected a search term after AND', { start: keywordAt, end: keywordAt + 3 });
        break;
      }
      operands.push(next);
    }
    if (operands.length <= 1) return operands[0] ?? null;
    return { kind: 'and', operands: flatten('and', operands), span: { start, end: this.pos } };
  }

  /** Terms next to each other: filters apply together; patterns concatenate (or AND in keyword search). */
  parseSequence(): QueryNode | null {
    const start = this.pos;
    const terms: QueryNode[] = [];
    for (;;) {
      this.skipSpace();
      if (this.done()) break;
      if (!this.parensLiteral && this.peek() === ')') break;
      if (this.atInfixKeyword('and') || this.atInfixKeyword('or')) break;
      const before = this.pos;
      const term = this.parseTerm();
      if (term) terms.push(term);
      if (this.pos === before) break;
    }
    const end = this.pos;
    const patterns = terms.filter((t): t is PatternNode => t.kind === 'pattern' && !t.negated);
    const others = terms.filter((t) => !(t.kind === 'pattern' && !t.negated));
    const operands: QueryNode[] = [...others];
    if (patterns.length > 1 && this.patternType !== 'keyword') {
      operands.push({
        kind: 'concat',
        operands: patterns,
        span: { start: patterns[0]!.span.start, end: patterns[patterns.length - 1]!.span.end },
      });
    } else {
      operands.push(...patterns);
    }
    operands.sort((a, b) => a.span.start - b.span.start);
    if (operands.length <= 1) return operands[0] ?? null;
    return { kind: 'and', operands: flatten('and', operands), span: { start, end } };
  }

  parseTerm(): QueryNode | null {
    if (this.atNot()) return this.parseNot();
    const ch = this.peek();
    if (ch === '(' && !this.parensLiteral) {
      if (this.patternType !== 'keyword') {
        const pattern = this.tryBalancedPattern();
        if (pattern) return pattern;
      }
      return this.parseGroup();
    }
    const filter = this.tryFilter(false, this.pos);
    if (filter !== undefined) return filter;
    return this.parsePattern(false, this.pos);
  }

  parseNot(): QueryNode | null {
    const start = this.pos;
    this.pos += 3;
    this.skipSpace();
    if (this.done()) {
      this.error('expected a search term after NOT', { start, end: start + 3 });
      return null;
    }
    if (this.peek() === '(' && !this.parensLiteral && !this.tryBalancedPatternAhead()) {
      this.error(
        'NOT applies to one pattern or filter, not to a group in parentheses; put NOT before each term',
        { start, end: start + 3 },
      );
      this.parseGroup();
      return null;
    }
    const filter = this.tryFilter(true, start);
    if (filter !== undefined) return filter;
    return this.parsePattern(true, start);
  }

  parseGroup(): QueryNode | null {
    const open = this.pos;
    this.pos++;
    if (++this.depth > MAX_DEPTH) {
      this.error(`parentheses are nested more than ${MAX_DEPTH} levels deep`, {
        start: open,
        end: open + 1,
      });
      throw new Unbalanced();
    }
    const inner = this.parseOr();
    this.depth--;
    this.skipSpace();
    if (this.peek() !== ')') throw new Unbalanced();
    this.pos++;
    if (inner === null) {
      // "()" is a pattern, as on Sourcegraph.
      return this.pattern('()', false, false, false, { start: open, end: this.pos });
    }
    return inner;
  }

  /** A pattern that starts with `(` and keeps its parentheses, e.g. `(a|b)c` or `(foo, bar)`. */
  tryBalancedPattern(): PatternNode | undefined {
    const scanned = scanBalanced(this.src, this.pos);
    if (!scanned) return undefined;
    const start = this.pos;
    this.pos = scanned.end;
    return this.checkedPattern(this.src.slice(start, scanned.end), false, {
      start,
      end: scanned.end,
    });
  }

  tryBalancedPatternAhead(): boolean {
    return this.patternType !== 'keyword' && scanBalanced(this.src, this.pos) !== undefined;
  }

  /** A filter at the current position; undefined when the text there is not a filter. */
  tryFilter(negatedByNot: boolean, start: number): QueryNode | null | undefined {
    const m = /^(-?)([A-Za-z]+):/.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    const [whole, dash, name] = m as unknown as [string, string, string];
    const field = resolveFilterName(name);
    const nameSpan = { start: this.pos, end: this.pos + whole.length - 1 };
    if (!field) {
      const typoOf = filterTypo(name);
      if (!typoOf) return undefined;
      this.pos += whole.length;
      this.scanFilterValue();
      this.error(
        `unknown filter "${dash}${name}:"; did you mean "${dash}${typoOf}:"? (to search for the text, quote it: "${name}:…")`,
        nameSpan,
      );
      return null;
    }
    this.pos += whole.length;
    const valueStart = this.pos;
    const negated = dash === '-' || negatedByNot;
    if (dash === '-' && negatedByNot) {
      this.error(`NOT and "-" both negate "${name}:"; use one of them`, { start, end: valueStart });
    }
    if (
      (field === 'repo' || field === 'file' || field === 'rev') &&
      /^[A-Za-z.]+\(/.test(this.src.slice(this.pos))
    ) {
      const predicate = this.tryPredicate(field, negated, start);
      if (predicate) return predicate;
    }
    const value = this.scanFilterValue();
    if (value === undefined) return null;
    const span = { start, end: this.pos };
    const valueSpan = { start: valueStart, end: this.pos };
    if (negated && !FILTERS[field].negatable) {
      this.error(`"${name}:" cannot be negated`, span);
      return null;
    }
    const count = (this.seen.get(field) ?? 0) + 1;
    this.seen.set(field, count);
    if (count > 1 && FILTERS[field].singular) {
      this.error(`"${name}:" may be used only once in a query`, span);
      return null;
    }
    return this.typedFilter(field, name, value, negated, span, valueSpan);
  }

  tryPredicate(
    field: 'repo' | 'file' | 'rev',
    negated: boolean,
    start: number,
  ): PredicateNode | undefined {
    const m = /^([A-Za-z.]+)\(/.exec(this.src.slice(this.pos))!;
    const name = m[1]!.toLowerCase();
    if (!PREDICATES[field].includes(name)) return undefined;
    const open = this.pos + m[1]!.length;
    let depth = 0;
    let i = open;
    for (; i < this.src.length; i++) {
      const ch = this.src[i];
      if (ch === '\\') i++;
      else if (ch === '(') depth++;
      else if (ch === ')' && --depth === 0) break;
    }
    if (depth !== 0 || i >= this.src.length) {
      this.error(`unclosed "(" in ${field}:${name}(…)`, { start: open, end: open + 1 });
      this.pos = this.src.length;
      return undefined;
    }
    this.pos = i + 1;
    const node: PredicateNode = {
      kind: 'predicate',
      field,
      name,
      argument: this.src.slice(open + 1, i),
      negated,
      span: { start, end: this.pos },
    };
    this.checkPredicate(node, open + 1);
    return node;
  }

  /** The value after `field:`, quotes removed; undefined after an error. */
  scanFilterValue(): string | undefined {
    const quote = this.peek();
    if (quote === '"' || quote === "'") {
      const start = this.pos;
      let value = '';
      for (let i = this.pos + 1; i < this.src.length; i++) {
        const ch = this.src[i]!;
        if (ch === quote) {
          this.pos = i + 1;
          return value;
        }
        if (ch === '\\') {
          const next = this.src[i + 1];
          if (next === undefined) break;
          if (next === quote || next === '\\') value += next;
          else if (next === 'n') value += '\n';
          else if (next === 't') value += '\t';
          else if (next === 'r') value += '\r';
          else {
            this.error(
              `unrecognized escape "\\${next}" in a quoted value; write "\\\\${next}", or leave the value unquoted`,
              { start: i, end: i + 2 },
            );
            this.pos = this.src.length;
            return undefined;
          }
          i++;
          continue;
        }
        value += ch;
      }
      this.error(`unterminated quoted value: expected a closing ${quote}`, {
        start,
        end: start + 1,
      });
      this.pos = this.src.length;
      return undefined;
    }
    const start = this.pos;
    let depth = 0;
    while (!this.done()) {
      const ch = this.peek();
      if (isSpace(ch)) break;
      if (ch === '\\') {
        this.pos += 2;
        continue;
      }
      if (!this.parensLiteral && ch === '(') depth++;
      if (!this.parensLiteral && ch === ')') {
        if (depth === 0) break; // closes a group
        depth--;
      }
      this.pos++;
    }
    this.pos = Math.min(this.pos, this.src.length);
    return this.src.slice(start, this.pos);
  }

  parsePattern(negated: boolean, start: number): PatternNode | null {
    const tokenStart = this.pos;
    const ch = this.peek();
    const quotesAreStrings = this.patternType === 'keyword' || this.patternType === 'regexp';
    if (ch === '/' && (this.patternType === 'standard' || this.patternType === 'keyword')) {
      const delimited = this.scanDelimited('/');
      if (delimited !== undefined) {
        const span = { start, end: this.pos };
        if (delimited === '') return this.pattern('//', negated, false, false, span);
        return this.checkedPattern(delimited, negated, span, true, tokenStart + 1);
      }
    }
    if ((ch === '"' || ch === "'") && quotesAreStrings) {
      const delimited = this.scanDelimited(ch);
      if (delimited !== undefined) {
        return this.pattern(delimited, negated, true, false, { start, end: this.pos });
      }
    }
    if (!this.parensLiteral) {
      const balanced = scanBalanced(this.src, this.pos);
      if (balanced) {
        this.pos = balanced.end;
        return this.checkedPattern(this.src.slice(tokenStart, balanced.end), negated, {
          start,
          end: this.pos,
        });
      }
    }
    const stopAtParens = this.patternType === 'regexp' && !this.parensLiteral;
    while (!this.done()) {
      const c = this.peek();
      if (isSpace(c)) break;
      if (stopAtParens && (c === '(' || c === ')')) break;
      if (!this.parensLiteral && c === ')') break;
      if (c === '\\') this.pos++;
      this.pos++;
    }
    this.pos = Math.min(this.pos, this.src.length);
    if (this.pos === tokenStart) {
      // A lone parenthesis in regexp search: part of the pattern.
      this.pos++;
    }
    return this.checkedPattern(this.src.slice(tokenStart, this.pos), negated, {
      start,
      end: this.pos,
    });
  }

  /** "…", '…' or /…/ followed by whitespace, `)` or the end; undefined when it is not one. */
  scanDelimited(delimiter: string): string | undefined {
    let value = '';
    for (let i = this.pos + 1; i < this.src.length; i++) {
      const ch = this.src[i]!;
      if (ch === '\\' && i + 1 < this.src.length) {
        const next = this.src[i + 1]!;
        if (next === delimiter || (next === '\\' && delimiter !== '/')) value += next;
        else if (delimiter !== '/' && next === 'n') value += '\n';
        else if (delimiter !== '/' && next === 't') value += '\t';
        else value += ch + next;
        i++;
        continue;
      }
      if (ch === delimiter) {
        const after = this.src[i + 1];
        if (after !== undefined && !isSpace(after) && after !== ')') return undefined;
        this.pos = i + 1;
        return value;
      }
      value += ch;
    }
    return undefined;
  }

  pattern(
    value: string,
    negated: boolean,
    quoted: boolean,
    regexp: boolean,
    span: Span,
  ): PatternNode {
    return { kind: 'pattern', value, negated, quoted, regexp, span };
  }

  /** A pattern whose regular expression (if it is one) compiles. */
  checkedPattern(
    value: string,
    negated: boolean,
    span: Span,
    delimitedRegexp = false,
    valueStart = span.start + (negated ? span.end - span.start - value.length : 0),
  ): PatternNode {
    const regexp = delimitedRegexp || this.patternType === 'regexp';
    if (regexp) this.checkRegexp(value, valueStart, 'pattern');
    if (negated && this.patternType === 'structural') {
      this.error('structural search does not support negated patterns', span);
    }
    return this.pattern(value, negated, false, regexp, span);
  }

  checkRegexp(value: string, valueStart: number, what: string): void {
    const result = translateRe2(value);
    if (result.error !== undefined) {
      const at = valueStart + (result.errorOffset ?? 0);
      this.error(`invalid regular expression in ${what} "${value}": ${result.error}`, {
        start: at,
        end: result.errorOffset === undefined ? valueStart + value.length : at + 1,
      });
    } else if (result.approximated) {
      this.warn(`in "${value}", ${result.approximated} (JavaScript has no scoped flags)`, {
        start: valueStart,
        end: valueStart + value.length,
      });
    }
  }

  typedFilter(
    field: FilterField,
    written: string,
    raw: string,
    negated: boolean,
    span: Span,
    valueSpan: Span,
  ): FilterNode | null {
    const common = { kind: 'filter' as const, negated, written, raw, span, valueSpan };
    const invalid = (expectedText: string, candidates: readonly string[] = []) => {
      this.error(
        `invalid value "${raw}" for "${written}:"; expected ${expectedText}${didYouMean(raw, candidates)}`,
        valueSpan,
      );
      return null;
    };
    switch (field) {
      case 'repo': {
        const at = raw.indexOf('@');
        const pattern = at < 0 ? raw : raw.slice(0, at);
        this.checkRegexp(pattern, valueSpan.start, `"${written}:"`);
        if (at >= 0) {
          return this.refuse(
            `"${written}:${raw}"`,
            `repositories are searched on their default branch only; to target ${raw.slice(at + 1) || 'another branch'}, list the repository under "on:" as "repository:" with "branch:"`,
            span,
          );
        }
        return { ...common, field, pattern };
      }
      case 'file':
      case 'repohasfile':
        this.checkRegexp(raw, valueSpan.start, `"${written}:"`);
        return { ...common, field, pattern: raw };
      case 'author':
      case 'committer':
      case 'message':
      case 'before':
      case 'after':
        return this.refuse(`"${written}:"`, NO_COMMIT_SEARCH, span);
      case 'content':
        if (this.patternType === 'regexp') this.checkRegexp(raw, valueSpan.start, `"${written}:"`);
        return { ...common, field, pattern: raw };
      case 'lang': {
        const language = findLanguage(raw);
        if (!language) {
          this.warn(
            `unknown language "${raw}" for "${written}:"${didYouMean(raw, languageNames())}; it will match files with the extension ".${raw.toLowerCase()}"`,
            valueSpan,
          );
        }
        return { ...common, field, language: language?.name ?? raw };
      }
      case 'fork':
      case 'archived':
      case 'index': {
        const value = parseYesNoOnly(raw);
        if (!value) return invalid('yes, no or only', ['yes', 'no', 'only']);
        if (field === 'index' && value !== 'yes') {
          return this.refuse(
            `"${written}:${raw}"`,
            "there is no search index to include or leave out: every repository of the code hosts' organizations is searched (as with index:yes)",
            span,
          );
        }
        return { ...common, field, value };
      }
      case 'visibility': {
        const value = raw.toLowerCase();
        if (value !== 'any' && value !== 'public' && value !== 'private') {
          return invalid('any, public or private', ['any', 'public', 'private']);
        }
        return { ...common, field, value };
      }
      case 'count': {
        if (raw.toLowerCase() === 'all') return { ...common, field, value: 'all' };
        if (!/^\d+$/.test(raw) || Number(raw) <= 0 || Number(raw) > 2 ** 31 - 1) {
          return invalid('a positive number or "all"');
        }
        return { ...common, field, value: Number(raw) };
      }
      case 'case': {
        const value = parseBoolean(raw);
        if (value === undefined) return invalid('yes or no', ['yes', 'no']);
        return { ...common, field, value };
      }
      case 'patterntype': {
        const value = patternTypeNamed(raw);
        if (!value)
          return invalid(
            'standard, keyword, literal, regexp or structural',
            Object.keys(PATTERN_TYPES),
          );
        if (value === 'structural') {
          this.warn(
            "patterntype:structural is approximated: each hole (:[name], :[[name]], …) matches any text (across lines for :[name]) and whitespace matches any whitespace; Comby's balanced-delimiter matching is not applied",
            span,
          );
        }
        return { ...common, field, value };
      }
      case 'select': {
        const value = raw.toLowerCase();
        const symbolKind = value.startsWith('symbol.') ? value.slice('symbol.'.length) : undefined;
        const valid =
          (SELECT_VALUES as readonly string[]).includes(value) ||
          (symbolKind !== undefined && (SYMBOL_KINDS as readonly string[]).includes(symbolKind));
        if (!valid) return invalid(SELECT_VALUES.join(', '), SELECT_VALUES);
        if (value.startsWith('symbol')) {
          return this.refuse(`"${written}:${raw}"`, NO_SYMBOL_SEARCH, span);
        } else if (value.startsWith('commit')) {
          return this.refuse(`"${written}:${raw}"`, NO_COMMIT_SEARCH, span);
        } else if (value === 'file.owners') {
          return this.refuse(`"${written}:${raw}"`, NO_OWNERSHIP, span);
        }
        return { ...common, field, value };
      }
      case 'type': {
        const value = raw.toLowerCase();
        const types = ['repo', 'path', 'file', 'symbol', 'commit', 'diff'] as const;
        const known = types.find((t) => t === value);
        if (!known) return invalid(types.join(', '), types);
        if (known === 'symbol') {
          return this.refuse(`"${written}:${raw}"`, NO_SYMBOL_SEARCH, span);
        } else if (known === 'commit' || known === 'diff') {
          return this.refuse(`"${written}:${raw}"`, NO_COMMIT_SEARCH, span);
        }
        return { ...common, field, value: known };
      }
      case 'timeout':
        if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(raw)) {
          return invalid('a duration such as 10s or 500ms');
        }
        return { ...common, field, value: raw };
      case 'rev':
        return this.refuse(
          `"${written}:${raw}"`,
          'repositories are searched on their default branch only; to target another branch, list the repository under "on:" as "repository:" with "branch:"',
          span,
        );
      case 'context':
        if (raw !== 'global') {
          return this.refuse(
            `"${written}:${raw}"`,
            "search contexts are a Sourcegraph feature; every repository of the code hosts' organizations is searched (as with context:global): narrow the query with repo: filters",
            span,
          );
        }
        return { ...common, field, value: raw };
      case 'repohascommitafter':
        this.checkCommitDate(raw, `"${written}:"`, valueSpan);
        return { ...common, field, value: raw };
      case 'rule':
        return this.refuse(
          `"${written}:"`,
          "Comby rules are not evaluated: structural search is approximated without them (see patterntype:structural's warning)",
          span,
        );
      case 'repogroup':
        return this.refuse(
          `"${written}:"`,
          'repository groups are deprecated on Sourcegraph and not evaluated here; use repo: filters',
          span,
        );
    }
  }

  /** An error for what Campaigns does not evaluate: what, why and what to do instead. */
  refuse(what: string, why: string, span: Span): null {
    this.error(`${what} is not supported: ${why}`, span);
    return null;
  }

  checkCommitDate(text: string, what: string, span: Span): void {
    if (parseCommitDate(text, new Date()) === undefined) {
      this.error(`invalid date "${text}" in ${what}; expected ${COMMIT_DATE_FORMS}`, span);
    }
  }

  /** Refuses predicates that are not evaluated and checks the arguments of those that are. */
  checkPredicate(node: PredicateNode, argumentStart: number): void {
    const name = `${node.field}:${node.name}(…)`;
    const argumentSpan = { start: argumentStart, end: argumentStart + node.argument.length };
    switch (`${node.field}:${node.name}`) {
      case 'repo:has.commit.after':
      case 'repo:contains.commit.after':
        this.checkCommitDate(node.argument, `"${name}"`, argumentSpan);
        break;
      case 'repo:has.description':
      case 'repo:has.path':
      case 'repo:contains.path':
        this.checkRegexp(node.argument, argumentStart, `"${name}"`);
        break;
      case 'repo:has':
      case 'repo:has.meta':
      case 'repo:has.tag':
      case 'repo:has.key':
        this.refuse(
          `"${name}"`,
          'repository metadata is a Sourcegraph feature the code hosts do not have; select the repositories with repo:, repo:has.topic(…) or repo:has.description(…)',
          node.span,
        );
        break;
      case 'repo:dependencies':
      case 'repo:deps':
      case 'repo:dependents':
      case 'repo:revdeps':
        this.refuse(
          `"${name}"`,
          'dependency search is a Sourcegraph feature; select the repositories by their manifests instead, e.g. repo:has.file(path:^package\\.json$ content:"left-pad")',
          node.span,
        );
        break;
      case 'file:has.owner':
      case 'file:has.contributor':
        this.refuse(`"${name}"`, NO_OWNERSHIP, node.span);
        break;
      case 'rev:at.time':
        this.refuse(
          `"${name}"`,
          'repositories are searched on their default branch as it is now',
          node.span,
        );
        break;
      default:
        break;
    }
  }
}

const NO_COMMIT_SEARCH =
  "commit and diff search are not evaluated: repositories are selected by their default branch's files as they are now (use repo:has.commit.after(…) to select recently changed repositories)";
const NO_SYMBOL_SEARCH =
  'symbol search is not evaluated (there is no symbol index); search for the text instead';
const NO_OWNERSHIP = 'code ownership and file history are not evaluated';

/**
 * Scans a pattern that contains parentheses and keeps them, from `start` to the whitespace after
 * its parentheses balance. Fails when they never balance, or when what follows an opening
 * parenthesis or an inner space is a filter or AND/OR/NOT (then the parentheses are a group).
 */
function scanBalanced(src: string, start: number): { end: number } | undefined {
  let depth = 0;
  let sawParen = false;
  const looksLikeSyntax = (at: number) => {
    const rest = src.slice(at);
    const field = /^-?([A-Za-z]+):/.exec(rest);
    if (field && resolveFilterName(field[1]!)) return true;
    return /^(and|or|not)[\s(]/i.test(rest);
  };
  if (looksLikeSyntax(start)) return undefined;
  let i = start;
  for (; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      i++;
      continue;
    }
    if (isSpace(ch)) {
      if (depth === 0) break;
      if (looksLikeSyntax(i + 1)) return undefined;
      continue;
    }
    if (ch === '(') {
      sawParen = true;
      depth++;
      if (looksLikeSyntax(i + 1)) return undefined;
    } else if (ch === ')') {
      if (depth === 0) break;
      depth--;
    }
  }
  if (!sawParen || depth !== 0 || i === start) return undefined;
  return { end: Math.min(i, src.length) };
}

function checkWholeQuery(parser: QueryParser, root: QueryNode | null): void {
  const all: (FilterNode | PredicateNode | PatternNode)[] = [];
  const visit = (node: QueryNode | null) => {
    if (!node) return;
    if (node.kind === 'and' || node.kind === 'or' || node.kind === 'concat')
      node.operands.forEach(visit);
    else all.push(node);
  };
  visit(root);
  const filters = all.filter((n): n is FilterNode => n.kind === 'filter');
  if (parser.patternType === 'structural') {
    const type = filters.find((f) => f.field === 'type');
    if (type) parser.error('structural search cannot be combined with "type:"', type.span);
  }
}

function flatten(kind: 'and' | 'or', operands: QueryNode[]): QueryNode[] {
  return operands.flatMap((o) => (o.kind === kind ? o.operands : [o]));
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}

function parseBoolean(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (['y', 'yes', '1', 't', 'true'].includes(v)) return true;
  if (['n', 'no', '0', 'f', 'false'].includes(v)) return false;
  return undefined;
}

function parseYesNoOnly(raw: string): YesNoOnly | undefined {
  const v = raw.toLowerCase();
  if (v === 'o' || v === 'only') return 'only';
  const b = parseBoolean(raw);
  return b === undefined ? undefined : b ? 'yes' : 'no';
}

/** Filter names a word is a plausible misspelling of (`repoo`, `fiel`, `lnag`), if any. */
function filterTypo(name: string): string | undefined {
  if (name.length < 3) return undefined;
  const candidates = [
    ...Object.keys(FILTERS),
    ...Object.keys(FILTER_ALIASES).filter((a) => a.length > 2),
  ];
  const match = closestMatch(name, candidates);
  if (!match) return undefined;
  const distance = editDistance(name.toLowerCase(), match);
  const allowed = match.length >= 7 ? 2 : match.length >= 4 ? 1 : 0;
  return distance <= allowed ? match : undefined;
}
