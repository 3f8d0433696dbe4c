import { describe, expect, it } from '@jest/globals';
import { branchesConflict, invalidBranchNameReason } from './git-ref.js';

describe('branch names, by the rules of git check-ref-format --branch', () => {
  it.each([
    'main',
    'campaigns/hello-world',
    'release-2.x',
    'feature/a.b',
    'v1.2.3',
    'a@b',
    'ü-branch',
  ])('accepts %s', (name) => expect(invalidBranchNameReason(name)).toBeUndefined());

  it.each([
    ['', 'cannot be empty'],
    ['@', 'cannot be "@"'],
    ['HEAD', 'cannot be "HEAD"'],
    ['-x', 'cannot start with "-"'],
    ['/x', 'cannot start or end with "/"'],
    ['x/', 'cannot start or end with "/"'],
    ['a//b', 'cannot contain "//"'],
    ['a.', 'cannot end with "."'],
    ['a..b', 'cannot contain ".."'],
    ['a@{b', 'cannot contain "@{"'],
    ['a b', 'cannot contain whitespace'],
    ['a~1', 'cannot contain "~"'],
    ['a^', 'cannot contain "^"'],
    ['a:b', 'cannot contain ":"'],
    ['a?', 'cannot contain "?"'],
    ['a*', 'cannot contain "*"'],
    ['a[b', 'cannot contain "["'],
    ['a\\b', 'cannot contain "\\"'],
    ['a\x01b', 'cannot contain control characters'],
    ['a/.hidden', 'can start with "."'],
    ['a/b.lock', 'can end with ".lock"'],
  ])('refuses %j: %s', (name, reason) => {
    expect(invalidBranchNameReason(name)).toContain(reason);
  });

  it('knows that a branch and its "subdirectory" cannot coexist', () => {
    expect(branchesConflict('a', 'a/b')).toBe(true);
    expect(branchesConflict('a/b', 'a')).toBe(true);
    expect(branchesConflict('a', 'ab')).toBe(false);
    expect(branchesConflict('a-b', 'a')).toBe(false);
  });
});
