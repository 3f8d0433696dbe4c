import { describe, expect, it } from '@jest/globals';
import { inScope, sparseCheckoutPatterns, workspaceScope } from './workspace-scope.js';

describe('workspace scope (onlyFetchWorkspace)', () => {
  const scope = workspaceScope('a/b')!;

  it.each([
    ['a/b/package.json', true],
    ['a/b/src/deep/file.ts', true],
    ['a/b/.gitignore', true],
    ['.gitignore', true],
    ['.gitattributes', true],
    ['a/.gitignore', true],
    ['a/.gitattributes', true],
    ['README.md', false],
    ['a/README.md', false],
    ['a/bc/file', false],
    ['a/c/.gitignore', false],
    ['x/.gitignore', false],
    ['a/b.txt', false],
    ['.gitignore/inside', false],
  ])('%s is checked out: %s', (path, expected) => {
    expect(inScope(scope, path)).toBe(expected);
  });

  it('is none for a workspace at the root, which is the whole repository', () => {
    expect(workspaceScope('')).toBeNull();
    expect(workspaceScope('/a/b/')).toEqual({ directory: 'a/b' });
  });

  it('gives git the directory and each kept file above it as a file only, with pattern characters escaped', () => {
    expect(sparseCheckoutPatterns(workspaceScope('a [x]/b*')!).split('\n')).toEqual([
      '/a\\ \\[x\\]/b\\*/',
      '/.gitignore',
      '!/.gitignore/',
      '/.gitattributes',
      '!/.gitattributes/',
      '/a\\ \\[x\\]/.gitignore',
      '!/a\\ \\[x\\]/.gitignore/',
      '/a\\ \\[x\\]/.gitattributes',
      '!/a\\ \\[x\\]/.gitattributes/',
      '',
    ]);
  });
});
