import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseSearchQuery } from './parse-query.js';
import { queryFilters, type QueryNode } from './query-ast.js';

/** A compact rendering of the tree for assertions: (and …), (or …), repo:x, -file:y, "pattern". */
function show(node: QueryNode | null | undefined): string {
  if (!node) return '';
  switch (node.kind) {
    case 'and':
    case 'or':
    case 'concat':
      return `(${node.kind} ${node.operands.map(show).join(' ')})`;
    case 'pattern':
      return `${node.negated ? 'NOT ' : ''}${node.regexp ? '/' : '"'}${node.value}${node.regexp ? '/' : '"'}`;
    case 'predicate':
      return `${node.negated ? '-' : ''}${node.field}:${node.name}(${node.argument})`;
    case 'filter':
      return `${node.negated ? '-' : ''}${node.field}:${node.raw}`;
  }
}

function parsed(query: string, version: 1 | 2 = 1) {
  const result = parseSearchQuery(query, { version });
  expect(result.errors).toEqual([]);
  return result;
}

describe('parseSearchQuery: the shapes of queries', () => {
  it.each([
    ['file:README.md', 'file:README.md'],
    [
      'repo:^github\\.com/acme/ file:\\.ts$ -repo:-archive$',
      '(and repo:^github\\.com/acme/ file:\\.ts$ -repo:-archive$)',
    ],
    ['r:acme f:x.go l:go', '(and repo:acme file:x.go lang:go)'],
    ['repohasfile:package.json count:all', '(and repohasfile:package.json count:all)'],
    ['lang:go not file:main.go panic', '(and lang:go -file:main.go "panic")'],
    ['foo NOT bar', '(and "foo" NOT "bar")'],
    ['(repo:a or repo:b) file:x', '(and (or repo:a repo:b) file:x)'],
    ['whitelist OR blacklist lang:markdown', '(or "whitelist" (and "blacklist" lang:markdown))'],
    ['a and (b or c)', '(and "a" (or "b" "c"))'],
    ['hello world', '(concat "hello" "world")'],
    ['fmt.Sprintf("%d", x)', '"fmt.Sprintf("%d", x)"'],
    ['content:"repo:foo bar" file:x', '(and content:repo:foo bar file:x)'],
    [
      'repo:has.file(path:package.json content:react) select:repo',
      '(and repo:has.file(path:package.json content:react) select:repo)',
    ],
    ['-repo:has.topic(archived)', '-repo:has.topic(archived)'],
    ['std::vector lang:c++', '(and "std::vector" lang:c++)'],
    ['/foo.*bar/ file:x', '(and /foo.*bar/ file:x)'],
    ['()', '"()"'],
    ['(repo:a', '"(repo:a"'],
    ['(a or b', '(or "(a" "b")'],
  ])('%s → %s', (query, expected) => {
    expect(show(parsed(query).query!.root)).toBe(expected);
  });

  it('reads adjacent patterns as AND in keyword search (version 2) and quotes as literal strings', () => {
    const result = parsed('foo "bar baz" file:x', 2);
    expect(result.query!.patternType).toBe('keyword');
    expect(show(result.query!.root)).toBe('(and "foo" "bar baz" file:x)');
  });

  it('lets patterntype: decide how patterns are read, wherever it appears', () => {
    const result = parsed('(foo|bar)baz patterntype:regexp');
    expect(result.query!.patternType).toBe('regexp');
    expect(show(result.query!.root)).toBe('(and /(foo|bar)baz/ patterntype:regexp)');
  });

  it('keeps structural patterns with parentheses and holes whole', () => {
    const result = parsed('(:[[a]] :[[type]], :[[b]] :[[type]]) patterntype:structural lang:go');
    expect(show(result.query!.root)).toBe(
      '(and "(:[[a]] :[[type]], :[[b]] :[[type]])" patterntype:structural lang:go)',
    );
  });

  it('treats a word with a colon that is not near any filter name as text, as Sourcegraph does', () => {
    const result = parsed(
      'FROM golang:1.1:[minor~[0-4]]-alpine file:Dockerfile patternType:structural',
    );
    expect(show(result.query!.root)).toBe(
      '(and (concat "FROM" "golang:1.1:[minor~[0-4]]-alpine") file:Dockerfile patterntype:structural)',
    );
  });

  it('reads unterminated quotes in regexp search as part of the regular expression', () => {
    const result = parsed('f:package.json "bootstrap": ".?4 patterntype:regexp -r:13k');
    expect(show(result.query!.root)).toBe(
      '(and file:package.json (concat /"bootstrap":/ /".?4/) patterntype:regexp -repo:13k)',
    );
  });

  it('types the values of filters', () => {
    const filters = queryFilters(
      parsed(
        'archived:only fork:yes visibility:Private count:10 case:yes type:file select:file.directory',
      ).query!.root,
    );
    expect(filters.map((f) => (f.kind === 'filter' && 'value' in f ? f.value : undefined))).toEqual(
      ['only', 'yes', 'private', 10, true, 'file', 'file.directory'],
    );
  });
});

describe('parseSearchQuery: errors carry the offset of what is wrong', () => {
  it.each([
    ['repoo:foo', 0, 'unknown filter "repoo:"; did you mean "repo:"?'],
    ['lang:go -fiel:vendor', 8, 'unknown filter "-fiel:"; did you mean "-file:"?'],
    ['file:x lnag:go', 7, 'unknown filter "lnag:"; did you mean "lang:"?'],
    ['repo:(foo', 5, 'invalid regular expression in "repo:" "(foo"'],
    ['file:x repo:a[', 13, 'invalid regular expression in "repo:" "a["'],
    ['foo /a(?=b)/', 6, 'lookaround assertions are not supported by RE2'],
    ['x(?P<n>a)\\1 patterntype:regexp', 9, 'backreferences'],
    ['archived:maybe', 9, 'invalid value "maybe" for "archived:"; expected yes, no or only'],
    ['fork:yess', 5, 'did you mean "yes"?'],
    ['visibility:secret', 11, 'expected any, public or private'],
    ['count:-3', 6, 'expected a positive number or "all"'],
    ['patterntype:fuzzy', 12, 'expected standard, keyword, literal, regexp or structural'],
    ['select:repos', 7, 'did you mean "repo"?'],
    ['type:commits', 5, 'did you mean "commit"?'],
    ['-case:yes', 0, '"case:" cannot be negated'],
    ['count:1 count:2', 8, '"count:" may be used only once in a query'],
    ['repo:"a\\.b"', 7, 'unrecognized escape "\\."'],
    ['file:"unterminated', 5, 'unterminated quoted value'],
    ['foo or or bar', 4, 'expected a search term after OR'],
    ['NOT (a or b)', 0, 'NOT applies to one pattern or filter'],
    ['timeout:forever', 8, 'expected a duration'],
  ])('%s: error at offset %d containing %j', (query, offset, message) => {
    const result = parseSearchQuery(query);
    expect(result.query).toBeUndefined();
    expect(result.errors[0]).toMatchObject({ severity: 'error', span: { start: offset } });
    expect(result.errors[0]!.message).toContain(message);
  });

  it('reports every error of a query, not only the first', () => {
    const result = parseSearchQuery('repoo:x archived:maybe');
    expect(result.errors.map((e) => e.span.start)).toEqual([0, 17]);
  });
});

describe('parseSearchQuery: what is not evaluated is refused, saying why and what to write instead', () => {
  it.each([
    ['foo type:symbol', 4, '"type:symbol" is not supported: symbol search is not evaluated'],
    ['foo type:commit author:alice', 4, '"type:commit" is not supported: commit and diff search'],
    ['foo type:diff', 4, '"type:diff" is not supported'],
    ['foo author:alice', 4, '"author:" is not supported: commit and diff search'],
    ['foo select:commit.diff.added', 4, '"select:commit.diff.added" is not supported'],
    ['foo select:symbol.function', 4, 'symbol search is not evaluated'],
    ['foo select:file.owners', 4, 'code ownership and file history are not evaluated'],
    ['repo:a rev:dev foo', 7, 'as "repository:" with "branch:"'],
    ['repo:a@dev foo', 0, 'to target dev, list the repository under "on:"'],
    ['foo context:@alice/mine', 4, 'search contexts are a Sourcegraph feature'],
    ['foo index:only', 4, 'there is no search index to include or leave out'],
    ['foo rule:x patterntype:structural', 4, 'Comby rules are not evaluated'],
    ['repogroup:x foo', 0, 'use repo: filters'],
    ['repo:has.meta(team:x)', 0, 'repository metadata is a Sourcegraph feature'],
    ['repo:has(team:x)', 0, 'repository metadata is a Sourcegraph feature'],
    ['repo:has.tag(x)', 0, 'repository metadata is a Sourcegraph feature'],
    ['repo:deps(^npm/react$)', 0, 'dependency search is a Sourcegraph feature'],
    ['file:has.owner(alice)', 0, 'code ownership'],
    ['repo:a rev:at.time(2024-01-01)', 7, 'as it is now'],
    ['repo:has.commit.after(last tuesday)', 22, 'invalid date "last tuesday"'],
    ['repohascommitafter:soon', 19, 'invalid date "soon"'],
    ['repo:has.description(a[)', 22, 'invalid regular expression'],
  ])('%s: error at offset %d containing %j', (query, offset, message) => {
    const result = parseSearchQuery(query);
    expect(result.query).toBeUndefined();
    expect(result.errors).toContainEqual(
      expect.objectContaining({
        span: expect.objectContaining({ start: offset }),
        message: expect.stringContaining(message),
      }),
    );
  });

  it.each([
    'repo:has.topic(go)',
    'repo:has.description(payments?)',
    'repo:has.commit.after(1 month ago)',
    'repo:contains.commit.after(2024-01-31)',
    'repohascommitafter:"2 weeks ago"',
    'foo context:global index:yes timeout:10s',
    'repo:has.content(TODO) file:has.content(FIXME) content:"a b"',
  ])('%s: evaluated exactly, so neither an error nor a warning', (query) => {
    const result = parseSearchQuery(query);
    expect([...result.errors, ...result.warnings]).toEqual([]);
  });
});

describe('parseSearchQuery: filters evaluated approximately are warnings that say how', () => {
  it.each([
    ['foo patterntype:structural', 4, 'structural is approximated: each hole'],
    ['lang:klingon foo', 5, 'unknown language "klingon"'],
    ['/foo(?i)bar/', 1, 'apply to the whole expression'],
  ])('%s: warning at offset %d containing %j', (query, offset, message) => {
    const result = parseSearchQuery(query);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({
        span: expect.objectContaining({ start: offset }),
        message: expect.stringContaining(message),
      }),
    );
  });

  it('has no warnings for queries it evaluates exactly', () => {
    expect(
      parseSearchQuery(
        'repo:^github\\.com/acme/ -file:vendor lang:go fork:no archived:yes count:5 foo',
      ).warnings,
    ).toEqual([]);
  });
});

describe('parseSearchQuery: robustness', () => {
  it('never throws, whatever the input, and positions stay inside the query', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.constantFrom<1 | 2>(1, 2), (query, version) => {
        const result = parseSearchQuery(query, { version });
        for (const d of [...result.errors, ...result.warnings]) {
          expect(d.span.start).toBeGreaterThanOrEqual(0);
          expect(d.span.start).toBeLessThanOrEqual(query.length);
        }
        expect(result.query === undefined).toBe(result.errors.length > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('survives query-like noise made of filters, operators and parentheses', () => {
    const token = fc.constantFrom(
      'repo:a',
      '-file:b',
      'lang:go',
      '(',
      ')',
      'or',
      'and',
      'not',
      '"x y"',
      '/r+/',
      'foo(',
      'bar)',
      'count:1',
      'x:y',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 12 }), (tokens) => {
        parseSearchQuery(tokens.join(' '));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads names of JavaScript internals as text, not as filters', () => {
    const result = parsed('constructor:x __proto__:y toString:z');
    expect(show(result.query!.root)).toBe('(concat "constructor:x" "__proto__:y" "toString:z")');
    expect(parseSearchQuery('patterntype:constructor').errors[0]!.message).toContain(
      'invalid value "constructor"',
    );
  });

  it('refuses parentheses nested beyond a limit instead of recursing without bound', () => {
    const deep = `${'('.repeat(500)}a or b${')'.repeat(500)}`;
    expect(() => parseSearchQuery(deep)).not.toThrow();
  });
});
