/** The filters of Sourcegraph's query language, their aliases and how each may be used. */

export type FilterField =
  | 'repo'
  | 'file'
  | 'repohasfile'
  | 'content'
  | 'lang'
  | 'fork'
  | 'archived'
  | 'visibility'
  | 'count'
  | 'case'
  | 'patterntype'
  | 'select'
  | 'type'
  | 'rev'
  | 'context'
  | 'timeout'
  | 'before'
  | 'after'
  | 'author'
  | 'committer'
  | 'message'
  | 'repohascommitafter'
  | 'index'
  | 'rule'
  | 'repogroup';

export interface FilterDefinition {
  /** May be written with `-` or NOT. */
  readonly negatable: boolean;
  /** May appear at most once in a query. */
  readonly singular: boolean;
}

const def = (negatable: boolean, singular: boolean): FilterDefinition => ({ negatable, singular });

export const FILTERS: Readonly<Record<FilterField, FilterDefinition>> = {
  repo: def(true, false),
  file: def(true, false),
  repohasfile: def(true, false),
  content: def(true, true),
  lang: def(true, false),
  fork: def(false, true),
  archived: def(false, true),
  visibility: def(false, true),
  count: def(false, true),
  case: def(false, true),
  patterntype: def(false, true),
  select: def(false, true),
  type: def(false, false),
  rev: def(false, true),
  context: def(false, true),
  timeout: def(false, true),
  before: def(false, false),
  after: def(false, false),
  author: def(true, false),
  committer: def(true, false),
  message: def(true, false),
  repohascommitafter: def(false, true),
  index: def(false, true),
  rule: def(false, true),
  repogroup: def(false, true),
};

/** Other spellings Sourcegraph accepts, lower-case. */
export const FILTER_ALIASES: Readonly<Record<string, FilterField>> = {
  r: 'repo',
  f: 'file',
  l: 'lang',
  language: 'lang',
  revision: 'rev',
  since: 'after',
  until: 'before',
  m: 'message',
  msg: 'message',
  g: 'repogroup',
};

/** The field a name (any case, alias or not) stands for. */
export function resolveFilterName(name: string): FilterField | undefined {
  const lower = name.toLowerCase();
  if (Object.hasOwn(FILTERS, lower)) return lower as FilterField;
  return Object.hasOwn(FILTER_ALIASES, lower) ? FILTER_ALIASES[lower] : undefined;
}

/** Predicates by field: `repo:has.file(…)` and friends. */
export const PREDICATES: Readonly<Record<'repo' | 'file' | 'rev', readonly string[]>> = {
  repo: [
    'contains.file',
    'contains.content',
    'contains.path',
    'contains.commit.after',
    'has',
    'has.file',
    'has.path',
    'has.content',
    'has.commit.after',
    'has.description',
    'has.topic',
    'has.meta',
    'has.tag',
    'has.key',
    'dependencies',
    'deps',
    'dependents',
    'revdeps',
  ],
  file: ['contains.content', 'has.content', 'has.owner', 'has.contributor'],
  rev: ['at.time'],
};

export const SELECT_VALUES = [
  'repo',
  'file',
  'file.directory',
  'file.path',
  'file.owners',
  'content',
  'symbol',
  'commit',
  'commit.diff.added',
  'commit.diff.removed',
] as const;

export const SYMBOL_KINDS = [
  'file',
  'module',
  'namespace',
  'package',
  'class',
  'method',
  'property',
  'field',
  'constructor',
  'enum',
  'interface',
  'function',
  'variable',
  'constant',
  'string',
  'number',
  'boolean',
  'array',
  'object',
  'key',
  'null',
  'enum-member',
  'struct',
  'event',
  'operator',
  'type-parameter',
] as const;
