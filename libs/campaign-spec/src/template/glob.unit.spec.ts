import { describe, expect, it } from '@jest/globals';
import {
  compileGlob,
  GlobError,
  matchGlob,
  MAX_GLOB_ALTERNATIVES,
  MAX_GLOB_EXPANSION,
} from './glob.js';

const matches = (pattern: string, text: string): boolean => matchGlob(compileGlob(pattern), text);

describe('matches globs (gobwas/glob syntax without separators, as Sourcegraph compiles them)', () => {
  it.each<[string, string, boolean]>([
    // `*` matches any run of characters, `/` included, since Sourcegraph gives no separators.
    ['github.com/sourcegraph/*', 'github.com/sourcegraph/src-cli', true],
    ['github.com/sourcegraph/*', 'github.com/sourcegraph/a/b', true],
    ['github.com/sourcegraph/*', 'github.com/other/src-cli', false],
    ['*sourcegraph-testing*', 'github.com/sourcegraph-testing/zap', true],
    ['*sourcegraph-testing*', 'github.com/sourcegraph/zap', false],
    ['github.com/my-org/terra*', 'github.com/my-org/terraform-modules', true],
    ['*', '', true],
    ['**', 'a/b/c', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b*c', 'acb', false],
    // The whole text must match, not a part of it.
    ['acme', 'github.com/acme', false],
    ['', '', true],
    ['', 'a', false],
    // `?` is exactly one character, counted in code points.
    ['?at', 'cat', true],
    ['?at', 'at', false],
    ['?', 'é', true],
    ['?', '😀', true],
    ['??', '😀', false],
    // Character classes, ranges and negation with `!`.
    ['[abc]at', 'bat', true],
    ['[abc]at', 'fat', false],
    ['[!abc]at', 'fat', true],
    ['[!abc]at', 'cat', false],
    ['[a-c]at', 'cat', true],
    ['[!a-c]at', 'cat', false],
    ['v[0-9].[0-9]', 'v1.2', true],
    ['[-a]', '-', true],
    ['[a-]', '-', true],
    ['[\\]]', ']', true],
    // Alternatives, nestable, each may hold wildcards.
    ['{cat,bat,[fr]at}', 'rat', true],
    ['{cat,bat,[fr]at}', 'hat', false],
    ['github.com/{acme,example}/*', 'github.com/example/x', true],
    ['{a,{b,c}d}', 'cd', true],
    ['x{}y', 'xy', true],
    // Backslash escapes a special character.
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['a\\?', 'a?', true],
    // Outside braces, `,` and `}` are ordinary characters.
    ['a,b}', 'a,b}', true],
  ])('%j against %j is %j', (pattern, text, expected) => {
    expect(matches(pattern, text)).toBe(expected);
  });

  it.each([
    ['[abc', 'unclosed "[" in pattern'],
    ['{a,b', 'unclosed "{" in pattern'],
    ['[]', 'empty character class "[]" in pattern'],
    ['[z-a]', 'character range z-a is reversed'],
    ['abc\\', 'pattern ends with a lone "\\"'],
  ])('refuses %j: %s', (pattern, message) => {
    expect(() => compileGlob(pattern)).toThrow(new GlobError(message));
  });

  it('refuses patterns whose alternatives multiply past the limit', () => {
    const pattern = '{a,b}'.repeat(11);
    expect(2 ** 11).toBeGreaterThan(MAX_GLOB_ALTERNATIVES);
    expect(() => compileGlob(pattern)).toThrow(GlobError);
  });

  it('refuses patterns whose expansion writes more than the limit, counting what it wrote', () => {
    // 1,024 alternatives of 1,000 characters each; and 50,000 one-choice braces, each copying
    // everything before it (quadratic without the count).
    for (const pattern of ['{a,b}'.repeat(10) + 'x'.repeat(1000), '{a}'.repeat(50_000)]) {
      expect(() => compileGlob(pattern)).toThrow(
        new GlobError(
          `pattern expands to more than ${MAX_GLOB_EXPANSION} characters across its alternatives`,
        ),
      );
    }
    expect(compileGlob('{a,b}'.repeat(10)).size).toBeLessThan(30_000);
  });

  it('charges compiling and matching to a shared budget, and stops when it is spent', () => {
    const work = { remaining: 1000 };
    expect(matchGlob(compileGlob('a*', work), 'abc', work)).toBe(true);
    const spent = 1000 - work.remaining;
    expect(spent).toBeGreaterThan(0);
    expect(() => compileGlob('{a,b}'.repeat(10), work)).toThrow(GlobError);
    expect(work.remaining).toBeLessThan(0);
  });

  it('matches adversarial patterns in time proportional to pattern × text', () => {
    const text = 'a'.repeat(100_000);
    const started = Date.now();
    expect(matches('*a*a*a*a*a*a*a*a*b', text)).toBe(false);
    expect(matches('*a*a*a*a*a*a*a*a*', text)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
