// The verdict of a chaos run: its end state against the fault-free reference run of the same
// campaign. Pull requests are matched by repository and head branch and compared by title, body,
// base, state, draft, head commit message and diff (changed files with their blob ids, so the
// same content compares equal although commits differ in time and sha); pull request numbers are
// not compared. A repository with more than one pull request from one branch is a duplicate; a
// repository that has a pull request or a changeset in the reference but none after the faults is
// a lost changeset.

export interface PullRecord {
  /** Repository name (`repo-00007`), the same in both runs although their simulators differ. */
  repo: string;
  number: number;
  title: string;
  body: string | null;
  headRef: string;
  baseRef: string;
  state: 'open' | 'closed' | 'merged';
  draft: boolean;
  commitMessage: string;
  /** `status path +additions -deletions blob` per changed file, sorted. */
  diff: string;
}

export interface ChangesetRecord {
  repo: string;
  headBranch: string;
  state: string;
  converged: boolean;
}

/** What a run left behind. */
export interface RunRecord {
  /** Every pull request from the campaign's branch, any state. */
  pulls: PullRecord[];
  /** `campaign status --json`'s changesets; null when status could not be read. */
  changesets: ChangesetRecord[] | null;
  campaignPhase: string | null;
  deadLetters: number;
  auditClean: boolean;
}

export interface ChaosComparison {
  duplicatePrs: number;
  lostChangesets: number;
  /** How the faulted run differs from the reference, one line each (the first 50, then a count). */
  differences: string[];
  differenceCount: number;
  converged: boolean;
}

const MAX_LISTED = 50;

function pullShape(p: PullRecord): string {
  return `${p.state}${p.draft ? ' draft' : ''} "${p.title}" ${p.headRef}→${p.baseRef} body ${JSON.stringify(p.body)} commit ${JSON.stringify(p.commitMessage)} diff [${p.diff}]`;
}

function byRepo<T extends { repo: string }>(items: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(item.repo, [...(map.get(item.repo) ?? []), item]);
  return map;
}

function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export function compareRuns(reference: RunRecord, faulted: RunRecord): ChaosComparison {
  const differences: string[] = [];
  let duplicatePrs = 0;
  const lost = new Set<string>();

  const refPulls = byRepo(reference.pulls);
  const gotPulls = byRepo(faulted.pulls);
  for (const [repo, pulls] of gotPulls) {
    const perBranch = new Map<string, number>();
    for (const p of pulls) perBranch.set(p.headRef, (perBranch.get(p.headRef) ?? 0) + 1);
    for (const [branch, n] of perBranch) {
      if (n > 1) {
        duplicatePrs += n - 1;
        const numbers = pulls.filter((p) => p.headRef === branch).map((p) => `#${p.number}`);
        differences.push(`${repo}: ${n} pull requests from ${branch} (${numbers.join(', ')})`);
      }
    }
  }
  const repos = [...new Set([...refPulls.keys(), ...gotPulls.keys()])].sort();
  for (const repo of repos) {
    const want = (refPulls.get(repo) ?? []).map(pullShape);
    const got = (gotPulls.get(repo) ?? []).map(pullShape);
    if (want.length > 0 && got.length === 0) lost.add(repo);
    if (!sameMultiset(want, got)) {
      differences.push(
        `${repo}: pull requests differ — reference ${want.length === 0 ? 'none' : want.join(' | ')}; ` +
          `chaos ${got.length === 0 ? 'none' : got.join(' | ')}`,
      );
    }
  }

  if (faulted.changesets === null) {
    differences.push('campaign status could not be read after the faults');
  } else if (reference.changesets !== null) {
    const shape = (c: ChangesetRecord) => `${c.headBranch} ${c.state}`;
    const refSets = byRepo(reference.changesets);
    const gotSets = byRepo(faulted.changesets);
    for (const repo of [...new Set([...refSets.keys(), ...gotSets.keys()])].sort()) {
      const want = (refSets.get(repo) ?? []).map(shape);
      const got = (gotSets.get(repo) ?? []).map(shape);
      if (want.length > 0 && got.length === 0) lost.add(repo);
      if (!sameMultiset(want, got)) {
        differences.push(
          `${repo}: changesets differ — reference [${want.join(', ')}]; chaos [${got.join(', ')}]`,
        );
      }
    }
    const unconverged = faulted.changesets.filter((c) => !c.converged).map((c) => c.repo);
    if (unconverged.length > 0) {
      differences.push(
        `${unconverged.length} changesets not converged: ${unconverged.slice(0, 10).join(', ')}`,
      );
    }
  }
  if (faulted.campaignPhase !== reference.campaignPhase) {
    differences.push(
      `campaign phase ${faulted.campaignPhase ?? 'unknown'}, reference ${reference.campaignPhase ?? 'unknown'}`,
    );
  }
  if (faulted.deadLetters > 0) differences.push(`${faulted.deadLetters} dead letters`);
  if (!faulted.auditClean) differences.push('campaign audit --verify found problems');

  const listed =
    differences.length > MAX_LISTED
      ? [...differences.slice(0, MAX_LISTED), `… and ${differences.length - MAX_LISTED} more`]
      : differences;
  return {
    duplicatePrs,
    lostChangesets: lost.size,
    differences: listed,
    differenceCount: differences.length,
    converged: differences.length === 0,
  };
}
