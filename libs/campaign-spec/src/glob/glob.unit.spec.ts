import { describe, expect, it } from '@jest/globals';
import { globProblem, isLiteralGlob, matchesGlob } from './glob.js';

describe('globs as Sourcegraph batch specs use them (published, workspaces.in)', () => {
  it.each([
    ['github.com/acme/*', 'github.com/acme/api', true],
    ['github.com/acme/*', 'github.com/acme/team/api', true], // * crosses "/"
    ['github.com/acme/*', 'github.com/other/api', false],
    ['*', 'anything/at/all', true],
    ['github.com/acme/ap?', 'github.com/acme/api', true],
    ['github.com/acme/[a-c]pi', 'github.com/acme/bpi', true],
    ['github.com/acme/[!a-c]pi', 'github.com/acme/bpi', false],
    ['github.com/{acme,corp}/api', 'github.com/corp/api', true],
    ['github.com/acme/a\\*i', 'github.com/acme/a*i', true],
    ['github.com/acme/a\\*i', 'github.com/acme/api', false],
    ['github.com/acme.io', 'github.com/acmexio', false], // "." is literal
    ['*-js', 'github.com/x/y-js', true],
  ])('%s matches %s: %s', (glob, text, expected) => {
    expect(matchesGlob(glob, text)).toBe(expected);
  });

  it('stays fast on patterns that make backtracking matchers explode', () => {
    const started = Date.now();
    expect(matchesGlob(`${'*a'.repeat(30)}b`, 'a'.repeat(200))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it.each([
    ['github.com/[acme', 'unclosed "["'],
    ['github.com/{a,b', 'unclosed "{"'],
    ['a[z-a]', 'reversed'],
  ])('says why %s is not a glob', (glob, problem) => {
    expect(globProblem(glob)).toContain(problem);
  });

  it('tells literal names from patterns', () => {
    expect(isLiteralGlob('github.com/acme/api')).toBe(true);
    expect(isLiteralGlob('github.com/acme/*')).toBe(false);
    expect(globProblem('github.com/acme/*')).toBeUndefined();
  });
});
