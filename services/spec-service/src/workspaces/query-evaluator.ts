import {
  findLanguage,
  parseCommitDate,
  pathIsInLanguage,
  queryFilters,
  translateRe2,
  type FilterNode,
  type PatternNode,
  type PredicateNode,
  type QueryNode,
  type SearchQuery,
  type YesNoOnly,
} from '@campaigns/campaign-spec';
import type { FileContents } from './head-contents.js';

/** What the evaluator needs of a repository. */
export interface QueryableRepository {
  /** `HOST/OWNER/NAME`. */
  name: string;
  archived: boolean;
  fork: boolean;
  visibility: string;
  /** Every file path at the head commit. */
  files: readonly string[];
  description: string | null;
  /** Lower case. */
  topics: readonly string[];
  /** When the default branch's head commit was committed; null for an empty repository. */
  headCommittedAt: Date | null;
}

export interface QueryMatch {
  /** Files the query matched, sorted; empty when the query constrains repositories only. */
  paths: string[];
}

/**
 * A search query compiled for evaluation against the repository index, with Sourcegraph's
 * semantics as far as an index of names, paths, descriptions, topics and head commit dates allows
 * (the parser refuses the filters and predicates that need more, such as commit search):
 *
 * - `repo:` / `-repo:` — an RE2 regular expression searched (unanchored, case-insensitive unless
 *   `case:yes`) in the full `HOST/OWNER/NAME`.
 * - `file:` / `-file:` — an RE2 regular expression searched in each file path; the files a query
 *   matches become its result paths. Several file filters in one AND must all hold for a file.
 * - `lang:` — files of that language (by extension or file name).
 * - `repohasfile:`, `repo:has.path(…)`, `repo:has.file(path:…)` and their `contains.` forms — the
 *   repository has a matching path (does not narrow the result paths).
 * - `repo:has.description(…)` — an RE2 regular expression searched in the code host's
 *   description (a repository without one does not match); `repo:has.topic(…)` — the code host
 *   lists that topic (any letter case).
 * - `repo:has.commit.after(…)`, `repo:contains.commit.after(…)`, `repohascommitafter:` — the
 *   default branch's head commit was committed after that time (relative times count back from
 *   when the query is compiled); an empty repository does not match.
 * - `archived:` and `fork:` — `no` (the default when the query does not say), `yes`, `only`;
 *   `visibility:` — `any` (default), `public`, `private` (private and internal).
 * - `type:repo` — patterns are searched in the repository name; `type:path` — in file paths.
 * - Any other pattern, `content:`, `file:has.content(…)`, `repo:has.content(…)` and the
 *   `content:` of `repo:has.file(…)` are content search (`searchesContent`), evaluated over the
 *   text of each file at the head commit that `match` is given: a literal pattern is found
 *   anywhere in a file (case-insensitive unless `case:yes`), a regular expression (`/…/`,
 *   `patterntype:regexp`, and the predicates' arguments) is RE2 with `^`/`$` at line ends;
 *   binary files and files over 1 MB are not searched, as on Sourcegraph. Without contents every
 *   content term holds, which makes `match` a pre-filter: it keeps every repository the contents
 *   could match (NOT applies to single terms only, so no term can turn a miss into a match).
 *   Structural patterns are read as regular expressions, each hole matching any text, and
 *   `approximated` says so.
 * - `select:repo` keeps the matching repositories but no result paths; other `select:` values
 *   keep them with their paths.
 * - AND, OR and NOT as the parser gives them. `context:global`, `index:yes`, `timeout:` and
 *   `patterntype:` (beyond how patterns read) change nothing; `count:` is the resolver's to apply
 *   (`limit`).
 *
 * As on Sourcegraph, a fork or an archived repository is included without `fork:` / `archived:`
 * when a `repo:` filter names it exactly (`repo:^github\.com/acme/old$`).
 */
export class CompiledQuery {
  /** Set when content search had to be approximated (structural search), in words for the user. */
  readonly approximated: string | undefined;
  /** Whether `match` needs the repository's file contents to decide. */
  readonly searchesContent: boolean;
  /** The contents of the repository being matched, while `match` runs with them. */
  #contents: FileContents | undefined;
  readonly #structural: boolean;
  readonly #root: QueryNode | null;
  readonly #caseSensitive: boolean;
  readonly #patternMode: 'content' | 'repo' | 'path';
  readonly #regexpPatterns: boolean;
  /** As the query says; undefined when it does not (then `no`, unless named exactly). */
  readonly #archived: YesNoOnly | undefined;
  readonly #fork: YesNoOnly | undefined;
  readonly #selectRepo: boolean;
  /** Lower-case names that `repo:^NAME$` filters spell out literally. */
  readonly #exactNames: Set<string>;
  readonly #regexps = new Map<string, RegExp>();
  /** Commit dates by the text written, as instants. */
  readonly #dates = new Map<string, number>();
  /** `count:N`: at most this many repositories; undefined for `count:all` or none. */
  readonly limit: number | undefined;

  constructor(query: SearchQuery, now: Date = new Date()) {
    this.#root = query.root;
    const filters = queryFilters(query.root).filter((f): f is FilterNode => f.kind === 'filter');
    const valueOf = (field: string) => filters.find((f) => f.field === field);
    const caseFilter = valueOf('case');
    this.#caseSensitive = caseFilter?.field === 'case' && caseFilter.value;
    const archived = valueOf('archived');
    this.#archived = archived?.field === 'archived' ? archived.value : undefined;
    const fork = valueOf('fork');
    this.#fork = fork?.field === 'fork' ? fork.value : undefined;
    this.#exactNames = new Set(
      filters.flatMap((f) => (f.field === 'repo' && !f.negated ? literalName(f.pattern) : [])),
    );
    const select = valueOf('select');
    this.#selectRepo = select?.field === 'select' && select.value === 'repo';
    const types = filters.flatMap((f) => (f.field === 'type' ? [f.value] : []));
    this.#patternMode = types.includes('repo')
      ? 'repo'
      : types.includes('path')
        ? 'path'
        : 'content';
    this.#regexpPatterns = query.patternType === 'regexp';
    this.#structural = query.patternType === 'structural';
    const count = valueOf('count');
    this.limit = count?.field === 'count' && count.value !== 'all' ? count.value : undefined;
    for (const f of queryFilters(query.root)) {
      const date =
        f.kind === 'predicate' && f.name.endsWith('commit.after')
          ? f.argument
          : f.kind === 'filter' && f.field === 'repohascommitafter'
            ? f.value
            : undefined;
      // The parser refused dates it cannot read; this is a last resort.
      if (date !== undefined)
        this.#dates.set(date, parseCommitDate(date, now)?.getTime() ?? Number.POSITIVE_INFINITY);
    }
    const patterns = [
      ...(this.#patternMode === 'content' ? collectPatterns(query.root) : []),
      ...contentFilters(query.root),
    ];
    this.searchesContent = patterns.length > 0;
    this.approximated =
      this.searchesContent && this.#structural
        ? `structural search (${patterns.map((p) => JSON.stringify(p)).join(', ')}) is approximated: each hole matches any text and whitespace any whitespace, so a repository may match where Comby's balanced matching would not`
        : undefined;
  }

  /**
   * The match in one repository, or undefined when the repository does not match. A query that
   * `searchesContent` needs `contents` (every file at the head commit) to be exact; without them
   * the answer is the pre-filter described on the class.
   */
  match(repo: QueryableRepository, contents?: FileContents): QueryMatch | undefined {
    this.#contents = contents;
    try {
      return this.#match(repo);
    } finally {
      this.#contents = undefined;
    }
  }

  #match(repo: QueryableRepository): QueryMatch | undefined {
    if (this.#root === null) return undefined;
    const byDefault = this.#exactNames.has(repo.name.toLowerCase()) ? 'yes' : 'no';
    if (
      !yesNoOnly(this.#archived ?? byDefault, repo.archived) ||
      !yesNoOnly(this.#fork ?? byDefault, repo.fork)
    ) {
      return undefined;
    }
    const result = this.#eval(this.#root, repo);
    if (result === undefined) return undefined;
    return { paths: result === ALL || this.#selectRepo ? [] : [...result].sort() };
  }

  #eval(node: QueryNode, repo: QueryableRepository): Files | undefined {
    switch (node.kind) {
      case 'and': {
        let files: Files = ALL;
        for (const operand of node.operands) {
          const r = this.#eval(operand, repo);
          if (r === undefined) return undefined;
          files = intersect(files, r);
          if (files !== ALL && files.size === 0) return undefined;
        }
        return files;
      }
      case 'or': {
        let files: Files | undefined;
        for (const operand of node.operands) {
          const r = this.#eval(operand, repo);
          if (r === undefined) continue;
          files = files === undefined ? r : union(files, r);
        }
        return files;
      }
      case 'concat': {
        const joined: PatternNode = {
          ...node.operands[0]!,
          value: node.operands
            .map((p) => (this.#isRegexp(p) ? p.value : escapeRegExp(p.value)))
            .join(this.#regexpPatterns ? '.*?' : ' '),
          regexp: true,
          quoted: false,
        };
        return this.#pattern(joined, repo);
      }
      case 'pattern':
        return this.#pattern(node, repo);
      case 'predicate':
        return this.#predicate(node, repo);
      case 'filter':
        return this.#filter(node, repo);
    }
  }

  #isRegexp(p: PatternNode): boolean {
    return p.regexp && !p.quoted;
  }

  #pattern(node: PatternNode, repo: QueryableRepository): Files | undefined {
    if (this.#patternMode === 'content') {
      const source = this.#isRegexp(node)
        ? node.value
        : this.#structural && !node.quoted
          ? structuralToRegExp(node.value)
          : escapeRegExp(node.value);
      return this.#filesContaining(source, node.negated);
    }
    const re = this.#isRegexp(node)
      ? this.#regexp(node.value)
      : this.#regexp(escapeRegExp(node.value));
    if (this.#patternMode === 'repo') return re.test(repo.name) !== node.negated ? ALL : undefined;
    return nonEmpty(repo.files.filter((f) => re.test(f) !== node.negated));
  }

  #predicate(node: PredicateNode, repo: QueryableRepository): Files | undefined {
    if (node.field === 'file') {
      // has.content / contains.content: the parser refused the others.
      return this.#filesContaining(node.argument, node.negated);
    }
    if (node.field !== 'repo') return ALL;
    const holds = (yes: boolean) => (yes !== node.negated ? ALL : undefined);
    switch (node.name) {
      case 'has.description':
        return holds(
          repo.description !== null && this.#regexp(node.argument).test(repo.description),
        );
      case 'has.topic':
        return holds(repo.topics.includes(node.argument.trim().toLowerCase()));
      case 'has.commit.after':
      case 'contains.commit.after':
        return holds(this.#committedAfter(node.argument, repo));
      case 'has.content':
      case 'contains.content': {
        const files = this.#filesContaining(node.argument, false);
        return files === ALL ? ALL : holds(files !== undefined);
      }
    }
    const content = contentOfHasFile(node);
    if (content !== undefined) {
      const pathPattern = /(?:^|\s)path:(\S+)/.exec(node.argument)?.[1];
      const files = this.#filesContaining(content, false);
      if (files === ALL) return ALL;
      const re = pathPattern === undefined ? undefined : this.#regexp(pathPattern);
      return holds(files !== undefined && [...files].some((f) => re === undefined || re.test(f)));
    }
    let pathPattern: string | undefined;
    if (['has.path', 'contains.path'].includes(node.name)) pathPattern = node.argument;
    if (['has.file', 'contains.file'].includes(node.name)) {
      pathPattern = /(?:^|\s)path:(\S+)/.exec(node.argument)?.[1];
    }
    if (pathPattern === undefined) return ALL;
    const re = this.#regexp(pathPattern);
    return repo.files.some((f) => re.test(f)) !== node.negated ? ALL : undefined;
  }

  #filter(node: FilterNode, repo: QueryableRepository): Files | undefined {
    switch (node.field) {
      case 'repo':
        return this.#regexp(node.pattern).test(repo.name) !== node.negated ? ALL : undefined;
      case 'file': {
        const re = this.#regexp(node.pattern);
        return nonEmpty(repo.files.filter((f) => re.test(f) !== node.negated));
      }
      case 'repohasfile': {
        const re = this.#regexp(node.pattern);
        return repo.files.some((f) => re.test(f)) !== node.negated ? ALL : undefined;
      }
      case 'lang': {
        const language = findLanguage(node.language) ?? {
          name: node.language,
          extensions: [`.${node.language.toLowerCase()}`],
        };
        return nonEmpty(repo.files.filter((f) => pathIsInLanguage(f, language) !== node.negated));
      }
      case 'repohascommitafter':
        return this.#committedAfter(node.value, repo) ? ALL : undefined;
      case 'content':
        return this.#filesContaining(
          this.#regexpPatterns ? node.pattern : escapeRegExp(node.pattern),
          node.negated,
        );
      case 'visibility':
        if (node.value === 'any') return ALL;
        return (node.value === 'public') === (repo.visibility === 'public') ? ALL : undefined;
      default:
        // archived/fork are applied to the whole query; the rest do not select repositories.
        return ALL;
    }
  }

  /**
   * The files whose text the expression finds (negated: does not find); ALL while no contents are
   * given (the pre-filter). Binary and unsearched large files (null text) match neither way.
   */
  #filesContaining(source: string, negated: boolean): Files | undefined {
    const contents = this.#contents;
    if (contents === undefined) return ALL;
    const re = this.#regexp(source, true);
    const files: string[] = [];
    for (const [path, text] of contents) {
      if (text !== null && re.test(text) !== negated) files.push(path);
    }
    return nonEmpty(files);
  }

  #committedAfter(date: string, repo: QueryableRepository): boolean {
    const after = this.#dates.get(date) ?? Number.POSITIVE_INFINITY;
    return repo.headCommittedAt !== null && repo.headCommittedAt.getTime() > after;
  }

  /** The RE2 expression in JavaScript; `lines`: `^` and `$` match at line ends (file contents). */
  #regexp(source: string, lines = false): RegExp {
    const key = `${lines ? 'm' : ''}:${source}`;
    let re = this.#regexps.get(key);
    if (re === undefined) {
      const translated = translateRe2(source, { caseSensitive: this.#caseSensitive });
      // The parser refused queries with invalid expressions; this is a last resort.
      re = translated.regexp ?? new RegExp(escapeRegExp(source), this.#caseSensitive ? '' : 'i');
      if (lines && !re.flags.includes('m')) re = new RegExp(re.source, `${re.flags}m`);
      this.#regexps.set(key, re);
    }
    return re;
  }
}

const ALL = 'all' as const;
/** The files a sub-query matched in a repository; ALL when it does not constrain files. */
type Files = typeof ALL | Set<string>;

function nonEmpty(files: string[]): Files | undefined {
  return files.length === 0 ? undefined : new Set(files);
}

function intersect(a: Files, b: Files): Files {
  if (a === ALL) return b;
  if (b === ALL) return a;
  return new Set([...a].filter((f) => b.has(f)));
}

function union(a: Files, b: Files): Files {
  if (a === ALL || b === ALL) return ALL;
  return new Set([...a, ...b]);
}

function yesNoOnly(setting: YesNoOnly, value: boolean): boolean {
  return setting === 'yes' || (setting === 'only') === value;
}

function collectPatterns(node: QueryNode | null): string[] {
  if (node === null) return [];
  switch (node.kind) {
    case 'pattern':
      return [node.value];
    case 'concat':
      return [node.operands.map((p) => p.value).join(' ')];
    case 'and':
    case 'or':
      return node.operands.flatMap(collectPatterns);
    default:
      return [];
  }
}

/** The `content:` of `repo:has.file(…)` / `repo:contains.file(…)`, unquoted, if it has one. */
function contentOfHasFile(node: PredicateNode): string | undefined {
  if (!node.name.endsWith('.file')) return undefined;
  const content = /(?:^|\s)content:(.+)$/.exec(node.argument)?.[1]?.trim();
  return content === undefined ? undefined : content.replace(/^(["'])(.*)\1$/s, '$2');
}

/**
 * A structural pattern as a regular expression: `:[name]` matches any text (across lines),
 * `:[[name]]` any text on one line, whitespace any whitespace.
 */
function structuralToRegExp(pattern: string): string {
  return pattern
    .split(/(:\[\[[^\]]*\]\]|:\[[^\]]*\]|\s+)/)
    .map((part) => {
      if (part === '') return '';
      if (/^\s+$/.test(part)) return '\\s+';
      if (part.startsWith(':[[')) return '.*?';
      if (part.startsWith(':[')) return '[\\s\\S]*?';
      return escapeRegExp(part);
    })
    .join('');
}

/** What `content:` filters and content predicates search for, as written. */
function contentFilters(root: QueryNode | null): string[] {
  return queryFilters(root).flatMap((f) => {
    if (f.kind === 'filter') return f.field === 'content' ? [f.pattern] : [];
    if (f.name.endsWith('.content')) return [f.argument];
    const content = contentOfHasFile(f);
    return content === undefined ? [] : [content];
  });
}

/** The name `^NAME$` matches literally (`\.` for dots), if the pattern is only that. */
function literalName(pattern: string): string[] {
  const m = /^\^((?:[^\\^$.*+?()[\]{}|]|\\[^A-Za-z0-9])+)\$$/.exec(pattern);
  return m === null ? [] : [m[1]!.replace(/\\(.)/g, '$1').toLowerCase()];
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}
