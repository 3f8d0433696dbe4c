import type { CheckReport, ChecksState, ReviewDecision, ReviewReport } from './code-host.js';

/** The latest report of each check of a commit, as a recorder keeps them. */
export type CheckResult = Pick<CheckReport, 'kind' | 'name' | 'suiteId' | 'state'>;

/**
 * A commit's checks as GitHub's `statusCheckRollup` states them, from the latest report of each
 * status context, check run and check suite: ERROR over FAILURE over PENDING over SUCCESS; null
 * when nothing reported. A suite counts only when none of its runs is known (a hook subscribed
 * to suites alone), so that one failed run is not counted again as its suite.
 */
export function checksRollup(results: readonly CheckResult[]): ChecksState {
  const suitesWithRuns = new Set(
    results.filter((r) => r.kind === 'check_run' && r.suiteId !== undefined).map((r) => r.suiteId),
  );
  const counted = results.filter(
    (r) => r.kind !== 'check_suite' || r.suiteId === undefined || !suitesWithRuns.has(r.suiteId),
  );
  if (counted.length === 0) return null;
  for (const state of ['ERROR', 'FAILURE', 'PENDING'] as const)
    if (counted.some((r) => r.state === state)) return state;
  return 'SUCCESS';
}

/**
 * A pull request's review decision from each reviewer's latest decisive review, as GitHub
 * decides it without branch protection: changes requested by anyone, else approved by anyone,
 * else a review is still required.
 */
export function reviewDecisionFrom(
  reviews: readonly Pick<ReviewReport, 'state'>[],
): Exclude<ReviewDecision, null> {
  if (reviews.some((r) => r.state === 'CHANGES_REQUESTED')) return 'CHANGES_REQUESTED';
  if (reviews.some((r) => r.state === 'APPROVED')) return 'APPROVED';
  return 'REVIEW_REQUIRED';
}

/** Whether report order `a` is newer than `b` (element by element; a longer equal prefix is newer). */
export function isNewer(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -Infinity;
    const y = b[i] ?? -Infinity;
    if (x !== y) return x > y;
  }
  return false;
}
