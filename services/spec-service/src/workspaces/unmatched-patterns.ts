import { GlobError, matchesGlob, type CampaignSpec } from '@campaigns/campaign-spec';
import type { ResolutionProblem } from './workspace-resolver.js';

/** What a pattern is checked against: a resolved workspace's repository and branch. */
export interface ResolvedTarget {
  repository: string;
  branch: string;
}

/**
 * The `workspaces[].in` globs and `changesetTemplate.published` patterns (`REPO[@BRANCH]`) that
 * match none of the resolved workspaces, one problem each: such a pattern silently does nothing.
 * Patterns are matched against `HOST/OWNER/NAME`; one written without the host (`acme/*`) is the
 * usual mistake, so when putting a configured host in front makes it match, the problem says so.
 * Nothing is reported when nothing resolved (the entries say why), nor for an invalid glob (the
 * resolver reports those already).
 */
export function unmatchedPatterns(
  spec: Pick<CampaignSpec, 'workspaces' | 'changesetTemplate'>,
  targets: readonly ResolvedTarget[],
  hosts: readonly string[],
): ResolutionProblem[] {
  if (targets.length === 0) return [];
  const repositories = [...new Set(targets.map((t) => t.repository))];
  const problems: ResolutionProblem[] = [];
  /** `suffix` is what follows the repository glob as written (`@BRANCH`). */
  const unmatched = (
    entry: string,
    repositoryGlob: string,
    suffix: string,
    matches: (glob: string) => boolean,
  ): void => {
    if (matches(repositoryGlob)) return;
    const qualified = hosts
      .map((host) => `${host}/${repositoryGlob.replace(/^\/+/, '')}`)
      .find((glob) => matches(glob));
    const written = `"${repositoryGlob}${suffix}" matches none of the ${repositories.length} resolved repositories`;
    problems.push({
      entry,
      message:
        qualified === undefined
          ? `${written} (patterns are matched against HOST/OWNER/NAME); it has no effect`
          : `${written}: patterns are matched against HOST/OWNER/NAME; did you mean "${qualified}${suffix}"?`,
    });
  };
  for (const configuration of spec.workspaces) {
    unmatched(
      `workspaces: rootAtLocationOf ${configuration.rootAtLocationOf} in ${configuration.in}`,
      configuration.in,
      '',
      (glob) => repositories.some((r) => globMatches(glob, r)),
    );
  }
  const published = spec.changesetTemplate?.published;
  if (Array.isArray(published)) {
    for (const rule of published) {
      for (const key of Object.keys(rule)) {
        const at = key.indexOf('@');
        const repositoryGlob = at < 0 ? key : key.slice(0, at);
        const branchGlob = at < 0 ? undefined : key.slice(at + 1);
        const suffix = at < 0 ? '' : key.slice(at);
        unmatched(`changesetTemplate.published: ${key}`, repositoryGlob, suffix, (glob) =>
          targets.some(
            (t) =>
              globMatches(glob, t.repository) &&
              (branchGlob === undefined || globMatches(branchGlob, t.branch)),
          ),
        );
      }
    }
  }
  return problems;
}

/** Whether the glob matches; an invalid glob counts as matching (its error is reported elsewhere). */
function globMatches(glob: string, text: string): boolean {
  try {
    return matchesGlob(glob, text);
  } catch (error) {
    if (error instanceof GlobError) return true;
    throw error;
  }
}
