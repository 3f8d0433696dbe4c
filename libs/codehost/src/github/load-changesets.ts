import type { ChangesetObservation, ChecksState, ReviewDecision } from '../code-host.js';

/**
 * The fields read for each pull request; shared by every alias of one query. Not `mergeable`:
 * nothing here uses it, and GitHub computes it with a test merge, lazily, per pull request.
 */
const PULL_REQUEST_FIELDS = `fragment ObservedPullRequest on PullRequest {
  id number url title state isDraft reviewDecision
  headRefName headRefOid baseRefName updatedAt
  labels(first: 100) { nodes { name } }
  commits(last: 1) { nodes { commit { statusCheckRollup { state } } } }
}`;

export interface PullRequestNode {
  id: string;
  number: number;
  url: string;
  title: string;
  state: 'OPEN' | 'CLOSED' | 'MERGED';
  isDraft: boolean;
  reviewDecision: ReviewDecision;
  headRefName: string;
  headRefOid: string;
  baseRefName: string;
  updatedAt: string;
  labels: { nodes: { name: string }[] } | null;
  commits: { nodes: { commit: { statusCheckRollup: { state: ChecksState } | null } }[] };
}

/** One query reading up to 100 pull requests through aliases `r0`…`r99`. */
export function buildLoadChangesetsQuery(
  refs: readonly { owner: string; name: string; number: number }[],
): {
  query: string;
  variables: Record<string, string | number>;
} {
  if (refs.length > 100) throw new Error(`at most 100 pull requests per query, got ${refs.length}`);
  const variables: Record<string, string | number> = {};
  const declarations: string[] = [];
  const selections: string[] = [];
  refs.forEach((ref, i) => {
    variables[`o${i}`] = ref.owner;
    variables[`n${i}`] = ref.name;
    variables[`p${i}`] = ref.number;
    declarations.push(`$o${i}: String!, $n${i}: String!, $p${i}: Int!`);
    selections.push(
      `r${i}: repository(owner: $o${i}, name: $n${i}) { pullRequest(number: $p${i}) { ...ObservedPullRequest } }`,
    );
  });
  const query = `query LoadChangesets(${declarations.join(', ')}) {\n${selections.join('\n')}\n}\n${PULL_REQUEST_FIELDS}`;
  return { query, variables };
}

export function toObservation(repo: string, node: PullRequestNode): ChangesetObservation {
  return {
    repo,
    number: node.number,
    nodeId: node.id,
    url: node.url,
    title: node.title,
    state: node.state,
    isDraft: node.isDraft,
    reviewDecision: node.reviewDecision ?? null,
    checksState: node.commits.nodes[0]?.commit.statusCheckRollup?.state ?? null,
    headRefName: node.headRefName,
    headRefOid: node.headRefOid,
    baseRefName: node.baseRefName,
    updatedAt: node.updatedAt,
    labels: (node.labels?.nodes ?? []).map((label) => label.name),
  };
}
