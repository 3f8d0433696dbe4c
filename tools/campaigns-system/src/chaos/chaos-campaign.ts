// The campaign a chaos run applies, phase by phase: publish a pull request to every sample
// repository, change the title, then drop some repositories from `on:` (their pull requests are
// closed). The reference run and the faulted run apply exactly these texts.
import type { ChaosPhase } from './chaos-plan.js';

export const CHAOS_CAMPAIGN = 'chaos';
export const CHAOS_BRANCH = 'chaos';
export const FIRST_TITLE = 'Hello from the chaos run';
export const SECOND_TITLE = 'Hello from the chaos run, retitled';

/** The spec as applied in `phase`; `removedRepos` are names (`repo-00007`) left out in the last. */
export function chaosSpecText(phase: ChaosPhase, removedRepos: readonly string[]): string {
  const title = phase === 'publish' ? FIRST_TITLE : SECOND_TITLE;
  // `-repo:` searches its regular expression in HOST/OWNER/NAME: anchor the name at the end.
  const exclusions =
    phase === 'remove' ? removedRepos.map((name) => ` -repo:/${name}$`).join('') : '';
  return `name: ${CHAOS_CAMPAIGN}
description: Survives kill -9, broker and database restarts and a failing code host
on:
  - repositoriesMatchingQuery: file:README.md${exclusions}
steps:
  - run: echo Hello | tee -a README.md
    container: alpine:3
changesetTemplate:
  title: ${title}
  body: Opened by the chaos run.
  branch: ${CHAOS_BRANCH}
  commit:
    message: Append Hello to README.md
  published: true
`;
}

/** What the code host shows of one pull request, for a phase's progress. */
export interface PullProgressView {
  repo: string;
  state: 'open' | 'closed';
  title: string;
}

/**
 * How far `phase` has got on the code host, 0..1: the share of its repositories whose pull
 * request is open (publish), carries the second title (retitle), or is closed (remove).
 */
export function phaseProgress(
  phase: ChaosPhase,
  pulls: readonly PullProgressView[],
  repos: readonly string[],
  removedRepos: readonly string[],
): number {
  const done = new Set<string>();
  for (const pull of pulls) {
    const holds =
      phase === 'publish'
        ? pull.state === 'open'
        : phase === 'retitle'
          ? pull.state === 'open' && pull.title === SECOND_TITLE
          : pull.state === 'closed' && removedRepos.includes(pull.repo);
    if (holds) done.add(pull.repo);
  }
  const of = phase === 'remove' ? removedRepos.length : repos.length;
  return of === 0 ? 1 : done.size / of;
}
