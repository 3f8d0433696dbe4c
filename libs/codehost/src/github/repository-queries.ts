// The GraphQL documents that read repositories: one page of an owner's repositories, or one
// repository, each with its default branch's head commit (and its date), description and
// topics, so that indexing a repository costs no request of its own.
import type { RepositoryInfo, RepositoryOrder, Visibility } from '../code-host.js';
import { formatRepositoryName } from '../repository-name.js';

/** GitHub allows at most 20 topics a repository: one page reads them all. */
const REPOSITORY_FIELDS = `fragment IndexedRepository on Repository {
  id name owner { login } url isArchived isFork visibility pushedAt updatedAt description
  repositoryTopics(first: 20) { nodes { topic { name } } }
  defaultBranchRef { name target { oid ... on Commit { committedDate } } }
}`;

/**
 * One page of the repositories an organization or a user owns (`ownerAffiliations: [OWNER]`,
 * like REST's `type=owner`), visible to the token. `repositoryOwner` answers both kinds of owner
 * in one call, and null when there is neither.
 */
export const LIST_REPOSITORIES_QUERY = `query ListRepositories($owner: String!, $first: Int!, $after: String, $orderBy: RepositoryOrder!) {
  repositoryOwner(login: $owner) {
    repositories(first: $first, after: $after, orderBy: $orderBy, ownerAffiliations: [OWNER]) {
      pageInfo { hasNextPage endCursor }
      nodes { ...IndexedRepository }
    }
  }
}
${REPOSITORY_FIELDS}`;

export const GET_REPOSITORY_QUERY = `query GetRepository($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { ...IndexedRepository }
}
${REPOSITORY_FIELDS}`;

export interface RepositoryNode {
  id: string;
  name: string;
  owner: { login: string };
  url: string;
  isArchived: boolean;
  isFork: boolean;
  visibility: 'PUBLIC' | 'PRIVATE' | 'INTERNAL';
  pushedAt: string | null;
  updatedAt: string;
  description: string | null;
  repositoryTopics: { nodes: ({ topic: { name: string } } | null)[] | null };
  defaultBranchRef: {
    name: string;
    target: { oid: string; committedDate?: string } | null;
  } | null;
}

export interface ListRepositoriesData {
  repositoryOwner: {
    repositories: {
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      nodes: (RepositoryNode | null)[];
    };
  } | null;
}

export interface GetRepositoryData {
  repository: RepositoryNode | null;
}

/** GitHub's `RepositoryOrder` for the port's order. */
export function repositoryOrder(
  orderBy: RepositoryOrder,
  direction: 'asc' | 'desc',
): { field: string; direction: string } {
  const fields: Record<RepositoryOrder, string> = {
    created: 'CREATED_AT',
    name: 'NAME',
    pushed: 'PUSHED_AT',
    updated: 'UPDATED_AT',
  };
  return { field: fields[orderBy], direction: direction.toUpperCase() };
}

export function toRepositoryInfo(host: string, node: RepositoryNode): RepositoryInfo {
  const owner = node.owner.login;
  return {
    name: formatRepositoryName({ host, owner, name: node.name }),
    owner,
    shortName: node.name,
    defaultBranch: node.defaultBranchRef?.name ?? '',
    headCommit: node.defaultBranchRef?.target?.oid ?? null,
    archived: node.isArchived,
    fork: node.isFork,
    visibility: node.visibility.toLowerCase() as Visibility,
    pushedAt: node.pushedAt,
    updatedAt: node.updatedAt,
    nodeId: node.id,
    webUrl: node.url,
    description: node.description,
    topics: (node.repositoryTopics.nodes ?? []).flatMap((n) => (n === null ? [] : [n.topic.name])),
    headCommittedAt: node.defaultBranchRef?.target?.committedDate ?? null,
  };
}
