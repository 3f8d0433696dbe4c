import { describe, expect, it } from '@jest/globals';
import { compileGlob, GlobSyntaxError, isLiteralGlob, matchesGlob } from './glob.js';

describe('globs as Sourcegraph batch specs use them', () => {
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

  it.each([
    ['github.com/[acme', 'unclosed "["', 11],
    ['github.com/{a,b', 'unclosed "{"', 11],
    ['a[z-a]', 'invalid range "z-a"', 3],
    ['trailing\\', 'dangling "\\" at the end', 8],
  ])('refuses %s: %s at offset %d', (glob, message, offset) => {
    expect(() => compileGlob(glob)).toThrow(GlobSyntaxError);
    try {
      compileGlob(glob);
    } catch (err) {
      expect(err).toMatchObject({ message, offset });
    }
  });

  it('tells literal names from patterns', () => {
    expect(isLiteralGlob('github.com/acme/api')).toBe(true);
    expect(isLiteralGlob('github.com/acme/*')).toBe(false);
  });
});
