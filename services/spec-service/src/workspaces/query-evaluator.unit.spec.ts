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

  it('approximates content filters and predicates too, and says so', () => {
    for (const [query, text] of [
      ['content:TODO', '"TODO"'],
      ['repo:has.content(TODO)', '"TODO"'],
      ['file:has.content(TODO)', '"TODO"'],
      ['repo:has.file(path:go.mod content:"go 1.22")', '"\\"go 1.22\\""'],
    ]) {
      expect(compile(query!).approximated).toContain(`content search (${text}`);
    }
  });

  it('approximates content patterns by the other filters and says so', () => {
    const compiled = compile('lang:go fmt.Println');
    expect(compiled.approximated).toContain('content search ("fmt.Println")');
    expect(run('lang:go fmt.Println')).toEqual([['api', ['internal/db/db.go', 'main.go']]]);
    expect(run('foo bar', 2)).toEqual([
      ['api', []],
      ['web', []],
    ]);
  });

  it('keeps no paths under select:repo and matches nothing for an empty query', () => {
    expect(run('file:README select:repo')).toEqual([
      ['api', []],
      ['web', []],
    ]);
    expect(run('')).toEqual([]);
  });
});
