import { describe, expect, it } from '@jest/globals';
import { checksRollup, isNewer, reviewDecisionFrom } from './rollup.js';

describe('checksRollup', () => {
  it('Given a failed run and a passing status, when rolled up, then the commit fails, whichever came last', () => {
    const failed = {
      kind: 'check_run' as const,
      name: 'ci/build',
      suiteId: 1,
      state: 'FAILURE' as const,
    };
    const passed = { kind: 'status' as const, name: 'ci/lint', state: 'SUCCESS' as const };
    expect(checksRollup([failed, passed])).toBe('FAILURE');
    expect(checksRollup([passed, failed])).toBe('FAILURE');
  });

  it('ranks ERROR over FAILURE over PENDING over SUCCESS, and says null when nothing reported', () => {
    const s = (state: 'SUCCESS' | 'FAILURE' | 'PENDING' | 'ERROR', name: string) => ({
      kind: 'status' as const,
      name,
      state,
    });
    expect(checksRollup([])).toBeNull();
    expect(checksRollup([s('SUCCESS', 'a')])).toBe('SUCCESS');
    expect(checksRollup([s('SUCCESS', 'a'), s('PENDING', 'b')])).toBe('PENDING');
    expect(checksRollup([s('PENDING', 'a'), s('FAILURE', 'b')])).toBe('FAILURE');
    expect(checksRollup([s('FAILURE', 'a'), s('ERROR', 'b')])).toBe('ERROR');
  });

  it('counts a suite only when none of its runs is known', () => {
    const suite = {
      kind: 'check_suite' as const,
      name: 'ci',
      suiteId: 1,
      state: 'FAILURE' as const,
    };
    const rerun = {
      kind: 'check_run' as const,
      name: 'ci/build',
      suiteId: 1,
      state: 'PENDING' as const,
    };
    expect(checksRollup([suite])).toBe('FAILURE');
    expect(checksRollup([suite, rerun])).toBe('PENDING');
  });
});

describe('reviewDecisionFrom', () => {
  it("decides from every reviewer's latest review", () => {
    expect(reviewDecisionFrom([])).toBe('REVIEW_REQUIRED');
    expect(reviewDecisionFrom([{ state: 'APPROVED' }, { state: 'CHANGES_REQUESTED' }])).toBe(
      'CHANGES_REQUESTED',
    );
    expect(reviewDecisionFrom([{ state: 'APPROVED' }, { state: 'DISMISSED' }])).toBe('APPROVED');
    expect(reviewDecisionFrom([{ state: 'DISMISSED' }])).toBe('REVIEW_REQUIRED');
  });
});

describe('isNewer', () => {
  it('compares element by element', () => {
    expect(isNewer([2, 0], [1, 9])).toBe(true);
    expect(isNewer([1, 1], [1, 0])).toBe(true);
    expect(isNewer([1, 0], [1, 0])).toBe(false);
    expect(isNewer([1, 0], [1, 1])).toBe(false);
  });
});
