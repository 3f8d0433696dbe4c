import { describe, expect, it } from '@jest/globals';
import { chaosSpecText, phaseProgress, SECOND_TITLE } from './chaos-campaign.js';
import {
  compareRuns,
  type ChangesetRecord,
  type PullRecord,
  type RunRecord,
} from './chaos-comparison.js';

function pull(repo: string, overrides: Partial<PullRecord> = {}): PullRecord {
  return {
    repo,
    number: 1,
    title: SECOND_TITLE,
    body: 'Opened by the chaos run.',
    headRef: 'chaos',
    baseRef: 'main',
    state: 'open',
    draft: false,
    commitMessage: 'Append Hello to README.md',
    diff: 'modified README.md +1 -0 5f2c',
    ...overrides,
  };
}

function changeset(repo: string, overrides: Partial<ChangesetRecord> = {}): ChangesetRecord {
  return { repo, headBranch: 'chaos', state: 'open', converged: true, ...overrides };
}

/** Three repositories, the third removed from the spec: its pull request closed. */
function reference(): RunRecord {
  return {
    pulls: [pull('repo-00001'), pull('repo-00002'), pull('repo-00003', { state: 'closed' })],
    changesets: [
      changeset('repo-00001'),
      changeset('repo-00002'),
      changeset('repo-00003', { state: 'removed' }),
    ],
    campaignPhase: 'complete',
    deadLetters: 0,
    auditClean: true,
  };
}

describe('compareRuns', () => {
  it('finds nothing when the faulted run ended like the reference, whatever the PR numbers', () => {
    const faulted = reference();
    faulted.pulls = faulted.pulls.map((p, i) => ({ ...p, number: 10 + i })).reverse();
    expect(compareRuns(reference(), faulted)).toEqual({
      duplicatePrs: 0,
      lostChangesets: 0,
      differences: [],
      differenceCount: 0,
      converged: true,
    });
  });

  it('counts a second pull request from the same branch as a duplicate', () => {
    const faulted = reference();
    faulted.pulls.push(pull('repo-00002', { number: 2 }), pull('repo-00002', { number: 3 }));
    const result = compareRuns(reference(), faulted);
    expect(result.duplicatePrs).toBe(2);
    expect(result.converged).toBe(false);
    expect(result.differences[0]).toBe('repo-00002: 3 pull requests from chaos (#1, #2, #3)');
  });

  it('counts a repository without its pull request, or without its changeset, as lost', () => {
    const faulted = reference();
    faulted.pulls = faulted.pulls.filter((p) => p.repo !== 'repo-00001');
    faulted.changesets = faulted.changesets!.filter((c) => c.repo !== 'repo-00002');
    const result = compareRuns(reference(), faulted);
    expect(result.lostChangesets).toBe(2);
    expect(result.converged).toBe(false);
  });

  it('tells a different title, diff, state or commit apart, naming the repository', () => {
    const cases: Partial<PullRecord>[] = [
      { title: 'Hello from the chaos run' },
      { diff: 'modified README.md +2 -0 77aa' },
      { state: 'closed' },
      { commitMessage: 'something else' },
      { body: null },
      { headRef: 'chaos-2' },
    ];
    for (const change of cases) {
      const faulted = reference();
      faulted.pulls[1] = { ...faulted.pulls[1]!, ...change };
      const result = compareRuns(reference(), faulted);
      expect({ change, converged: result.converged }).toEqual({ change, converged: false });
      expect(result.differences.join('\n')).toContain('repo-00002: pull requests differ');
    }
  });

  it('wants every changeset converged, the same phase, no dead letters and a clean audit', () => {
    const unconverged = reference();
    unconverged.changesets![0] = changeset('repo-00001', { converged: false });
    expect(compareRuns(reference(), unconverged).differences).toEqual([
      '1 changesets not converged: repo-00001',
    ]);
    expect(
      compareRuns(reference(), { ...reference(), campaignPhase: 'reconciling' }).differences,
    ).toEqual(['campaign phase reconciling, reference complete']);
    expect(compareRuns(reference(), { ...reference(), deadLetters: 2 }).differences).toEqual([
      '2 dead letters',
    ]);
    expect(compareRuns(reference(), { ...reference(), auditClean: false }).differences).toEqual([
      'campaign audit --verify found problems',
    ]);
    expect(compareRuns(reference(), { ...reference(), changesets: null }).converged).toBe(false);
  });

  it('lists at most 50 differences and says how many more there are', () => {
    const many = Array.from({ length: 80 }, (_, i) => `repo-${String(i + 1).padStart(5, '0')}`);
    const ref: RunRecord = { ...reference(), pulls: many.map((r) => pull(r)), changesets: [] };
    const result = compareRuns(ref, { ...ref, pulls: [] });
    expect(result.lostChangesets).toBe(80);
    expect(result.differences).toHaveLength(51);
    expect(result.differenceCount).toBe(80);
    expect(result.differences.at(-1)).toBe('… and 30 more');
  });
});

describe('the chaos campaign', () => {
  it('leaves the removed repositories out of the last phase only', () => {
    expect(chaosSpecText('retitle', ['repo-00007'])).toContain(
      'repositoriesMatchingQuery: file:README.md\n',
    );
    expect(chaosSpecText('remove', ['repo-00007', 'repo-00012'])).toContain(
      'repositoriesMatchingQuery: file:README.md -repo:/repo-00007$ -repo:/repo-00012$\n',
    );
    expect(chaosSpecText('publish', [])).not.toContain(SECOND_TITLE);
  });

  it('measures a phase by what the code host shows', () => {
    const repos = ['repo-00001', 'repo-00002', 'repo-00003', 'repo-00004'];
    const pulls = [
      { repo: 'repo-00001', state: 'open' as const, title: SECOND_TITLE },
      { repo: 'repo-00002', state: 'open' as const, title: 'Hello from the chaos run' },
      { repo: 'repo-00003', state: 'closed' as const, title: SECOND_TITLE },
    ];
    expect(phaseProgress('publish', pulls, repos, ['repo-00003'])).toBe(0.5);
    expect(phaseProgress('retitle', pulls, repos, ['repo-00003'])).toBe(0.25);
    expect(phaseProgress('remove', pulls, repos, ['repo-00003', 'repo-00004'])).toBe(0.5);
  });
});
