import { describe, expect, it } from '@jest/globals';
import { globToRegex, matchConditions } from './changeset-match.js';

const matches = (glob: string, name: string) => new RegExp(globToRegex(glob)).test(name);

describe('globToRegex', () => {
  it('matches a whole host-qualified name: * stays within a part, ** crosses /', () => {
    expect(matches('github.com/acme/*', 'github.com/acme/api')).toBe(true);
    expect(matches('github.com/acme/*', 'github.com/acme/api/sub')).toBe(false);
    expect(matches('**/api', 'github.com/acme/api')).toBe(true);
    expect(matches('*/api', 'github.com/acme/api')).toBe(false);
    expect(matches('github.com/acme/api-?', 'github.com/acme/api-1')).toBe(true);
    expect(matches('github.com/acme/api', 'github.com/acme/api-1')).toBe(false);
  });

  it('takes every other character literally: a dot is a dot, brackets are brackets', () => {
    expect(matches('github.com/acme/*', 'githubXcom/acme/api')).toBe(false);
    expect(matches('github.com/acme/a+b(c)', 'github.com/acme/a+b(c)')).toBe(true);
    expect(matches('github.com/acme/[x]', 'github.com/acme/x')).toBe(false);
  });
});

describe('matchConditions', () => {
  it('makes no condition of an empty match, and one per field given', () => {
    expect(matchConditions({}, 'STATE')).toEqual([]);
    const conditions = matchConditions(
      { state: 'open', checks: 'failed', review: 'pending', repository: '**/api' },
      'STATE',
    );
    expect(conditions.map((c) => c.sql)).toEqual([
      '(STATE) = :matchState',
      's.checks IN (:...matchChecks)',
      "(s.review IS NULL OR s.review = 'REVIEW_REQUIRED')",
      's.repository ~ :matchRepository',
    ]);
    expect(conditions[1]!.params).toEqual({ matchChecks: ['FAILURE', 'ERROR'] });
  });
});
