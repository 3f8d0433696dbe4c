import { describe, expect, it } from '@jest/globals';
import { parseSearchQuery } from '@campaigns/campaign-spec';
import { CompiledQuery, type QueryableRepository } from './query-evaluator.js';

const NOW = new Date('2026-03-31T12:00:00Z');

const repos: QueryableRepository[] = [
  {
    name: 'github.com/acme/api',
    archived: false,
    fork: false,
    visibility: 'public',
    files: ['README.md', 'go.mod', 'main.go', 'internal/db/db.go', 'docs/guide.md'],
    description: 'The Payments API',
    topics: ['go', 'payments'],
    headCommittedAt: new Date('2026-03-30T12:00:00Z'),
  },
  {
    name: 'github.com/acme/web',
    archived: false,
    fork: false,
    visibility: 'private',
    files: ['README.md', 'package.json', 'src/app.ts', 'src/app.test.ts'],
    description: null,
    topics: ['typescript'],
    headCommittedAt: new Date('2026-01-15T12:00:00Z'),
  },
  {
    name: 'github.com/acme/old-web',
    archived: true,
    fork: false,
    visibility: 'public',
    files: ['README.md', 'index.js'],
    description: 'Old web site (payments page)',
    topics: [],
    headCommittedAt: new Date('2020-06-01T00:00:00Z'),
  },
];

function compile(query: string, version: 1 | 2 = 1): CompiledQuery {
  const parsed = parseSearchQuery(query, { version });
  if (parsed.query === undefined) throw new Error(JSON.stringify(parsed.errors));
  return new CompiledQuery(parsed.query, NOW);
}

/** Each matching repository's short name with its result paths. */
function run(query: string, version: 1 | 2 = 1): [string, string[]][] {
  const compiled = compile(query, version);
  return repos.flatMap((repo) => {
    const match = compiled.match(repo);
    return match === undefined ? [] : [[repo.name.split('/')[2]!, match.paths]];
  });
}

describe('CompiledQuery', () => {
  it('ANDs file filters per file and keeps the matched paths sorted', () => {
    expect(run('file:\\.ts$ -file:test')).toEqual([['web', ['src/app.ts']]]);
    expect(run('file:^src/ file:app')).toEqual([['web', ['src/app.test.ts', 'src/app.ts']]]);
  });

  it('unions the paths of OR branches', () => {
    expect(run('file:go.mod or file:package.json')).toEqual([
      ['api', ['go.mod']],
      ['web', ['package.json']],
    ]);
    expect(run('(repo:api$ file:\\.go$) or (repo:web$ lang:typescript)')).toEqual([
      ['api', ['internal/db/db.go', 'main.go']],
      ['web', ['src/app.test.ts', 'src/app.ts']],
    ]);
  });

  it('checks repohasfile:, has.path and has.file without narrowing the paths', () => {
    expect(run('repohasfile:go.mod')).toEqual([['api', []]]);
    expect(run('-repohasfile:go.mod')).toEqual([['web', []]]);
    expect(run('repo:has.path(package.json) file:README')).toEqual([['web', ['README.md']]]);
    expect(run('repo:has.file(path:main.go)')).toEqual([['api', []]]);
  });

  it('filters by visibility and archived state', () => {
    expect(run('visibility:private')).toEqual([['web', []]]);
    expect(run('visibility:public archived:yes')).toEqual([
      ['api', []],
      ['old-web', []],
    ]);
    expect(run('repo:web archived:only')).toEqual([['old-web', []]]);
    // Named exactly, an archived repository is included unless the query says otherwise.
    expect(run('repo:^github\\.com/acme/old-web$')).toEqual([['old-web', []]]);
    expect(run('repo:^github\\.com/acme/old-web$ archived:no')).toEqual([]);
    expect(run('repo:^github\\.com/acme/old-.*$')).toEqual([]);
  });

  it('searches patterns in paths under type:path and in names under type:repo', () => {
    expect(run('type:path guide')).toEqual([['api', ['docs/guide.md']]]);
    expect(run('type:repo /^github\\.com\\/acme\\/w/')).toEqual([['web', []]]);
    expect(compile('type:path guide').approximated).toBeUndefined();
  });

  it('selects by the code host description, topics and head commit date', () => {
    expect(run('repo:has.description(payments) archived:yes')).toEqual([
      ['api', []],
      ['old-web', []],
    ]);
    expect(run('repo:has.description(^the payments)')).toEqual([['api', []]]);
    expect(run('-repo:has.description(payments)')).toEqual([['web', []]]);
    expect(run('repo:has.topic(Payments)')).toEqual([['api', []]]);
    expect(run('repo:has.topic(pay)')).toEqual([]);
    expect(run('-repo:has.topic(go)')).toEqual([['web', []]]);
    expect(run('repo:has.commit.after(1 week ago) archived:yes')).toEqual([['api', []]]);
    expect(run('repo:contains.commit.after(2026-01-01) archived:yes')).toEqual([
      ['api', []],
      ['web', []],
    ]);
    expect(run('repohascommitafter:"2026-02-01" archived:yes')).toEqual([['api', []]]);
    expect(compile('repo:has.topic(go) repo:has.commit.after(yesterday)').approximated).toBe(
      undefined,
    );
  });

  it('reads count: as the limit and count:all as none', () => {
    expect(compile('file:README count:2').limit).toBe(2);
    expect(compile('file:README count:all').limit).toBeUndefined();
    expect(compile('file:README').limit).toBeUndefined();
  });

  it('searches file contents exactly when given them, and pre-filters without them', () => {
    const contents = new Map<string, Map<string, string | null>>([
      [
        'github.com/acme/api',
        new Map<string, string | null>([
          ['main.go', 'package main\n\nfunc main() { fmt.Println("hi") }\n'],
          ['internal/db/db.go', 'package db\n// TODO: pool\n'],
          ['go.mod', 'module api\n\ngo 1.22\n'],
          ['README.md', '# API\n'],
          ['docs/guide.md', null],
        ]),
      ],
      [
        'github.com/acme/web',
        new Map<string, string | null>([
          ['src/app.ts', 'console.log("TODO later");\n'],
          ['src/app.test.ts', 'test("x", () => {});\n'],
          ['package.json', '{"dependencies":{"react":"18"}}\n'],
          ['README.md', '# Web\n'],
        ]),
      ],
    ]);
    const exact = (query: string, version: 1 | 2 = 1) => {
      const compiled = compile(query, version);
      expect(compiled.searchesContent).toBe(true);
      expect(compiled.approximated).toBeUndefined();
      return repos.flatMap((repo) => {
        const match = compiled.match(repo, contents.get(repo.name) ?? new Map());
        return match === undefined ? [] : [[repo.name.split('/')[2]!, match.paths]];
      });
    };
    expect(exact('fmt.Println')).toEqual([['api', ['main.go']]]);
    expect(exact('todo')).toEqual([
      ['api', ['internal/db/db.go']],
      ['web', ['src/app.ts']],
    ]);
    expect(exact('todo case:yes')).toEqual([]);
    expect(exact('lang:go TODO')).toEqual([['api', ['internal/db/db.go']]]);
    expect(exact('/^go 1\\.2\\d$/')).toEqual([['api', ['go.mod']]]);
    expect(exact('content:"TODO later"')).toEqual([['web', ['src/app.ts']]]);
    expect(exact('file:\\.ts$ -content:TODO')).toEqual([['web', ['src/app.test.ts']]]);
    expect(exact('file:has.content(react)')).toEqual([['web', ['package.json']]]);
    expect(exact('repo:has.content(package db) file:README')).toEqual([['api', ['README.md']]]);
    expect(exact('repo:has.file(path:package\\.json content:"react")')).toEqual([['web', []]]);
    expect(exact('repo:has.file(path:README content:react)')).toEqual([]);
    expect(exact('-repo:has.content(fmt) file:README')).toEqual([['web', ['README.md']]]);
    expect(exact('TODO pool', 2)).toEqual([['api', ['internal/db/db.go']]]);
    // Without the contents every content term holds: a pre-filter that keeps every candidate.
    expect(run('lang:go fmt.Println')).toEqual([['api', ['internal/db/db.go', 'main.go']]]);
  });

  it('reads structural patterns as regular expressions and says they are approximated', () => {
    const compiled = compile('fmt.Println(:[x]) patterntype:structural');
    expect(compiled.approximated).toContain(
      'structural search ("fmt.Println(:[x])") is approximated',
    );
    const files = new Map([['main.go', 'fmt.Println(\n  "hi")\n']]);
    expect(compiled.match(repos[0]!, files)).toEqual({ paths: ['main.go'] });
    expect(compiled.match(repos[0]!, new Map([['main.go', 'fmt.Printf("hi")']]))).toBeUndefined();
  });

  it('keeps no paths under select:repo and matches nothing for an empty query', () => {
    expect(run('file:README select:repo')).toEqual([
      ['api', []],
      ['web', []],
    ]);
    expect(run('')).toEqual([]);
  });
});
