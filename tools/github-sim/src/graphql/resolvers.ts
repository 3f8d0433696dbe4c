// Resolvers of the sim's GraphQL schema over the simulator's records. Sources are the records
// themselves (Repository, PullRequest, Account, Label, Review) or small view objects for what
// has no record (a pull request's commits, a commit's status rollup, the rate limit).
import type { GraphQLFieldResolver, GraphQLTypeResolver } from 'graphql';
import type { SimCore } from '../sim-core.js';
import type {
  Account,
  CheckRun,
  CommitStatus,
  Label,
  PullRequest,
  Repository,
  Review,
} from '../state/model.js';
import { decodeNodeId } from '../state/node-id.js';
import { connectionOf, type ConnectionArgs } from './connections.js';
import { notFound } from './errors.js';
import { ownerRepositories, type RepositoriesArgs } from './repository-connection.js';

/** What the resolvers use of a running simulator. */
export type GraphqlBackend = Pick<
  SimCore,
  'state' | 'pulls' | 'json' | 'store' | 'repositories' | 'canRead' | 'canWrite'
>;

/** GitHub's `RateLimit` object for one call. */
export interface RateLimitView {
  cost: number;
  limit: number;
  nodeCount: number;
  remaining: number;
  used: number;
  resetAt: string;
}

export interface GraphqlContext {
  backend: GraphqlBackend;
  /** The authenticated account the call acts as. */
  viewer: Account;
  rateLimit: RateLimitView;
  /** `rateLimit(dryRun: true)`: measure the call, resolve nothing else. */
  dryRun: boolean;
}

/** A commit of a pull request (`PullRequestCommit`). */
interface PullRequestCommitView {
  kind: 'PullRequestCommit';
  pull: PullRequest;
  repository: Repository;
  sha: string;
}

/** A commit (`Commit`), in the repository it was reached through. */
interface CommitView {
  kind: 'Commit';
  repository: Repository;
  sha: string;
}

/** A topic of a repository (`RepositoryTopic`). */
interface RepositoryTopicView {
  kind: 'RepositoryTopic';
  repository: Repository;
  name: string;
}

/** A branch (`Ref`) and the commit it points at. */
interface RefView {
  kind: 'Ref';
  repository: Repository;
  name: string;
  sha: string;
}

type Resolver<S = never> = GraphQLFieldResolver<S, GraphqlContext, Record<string, unknown>>;
export type Resolvers = Record<string, Record<string, Resolver<never>>>;

const base64 = (text: string) => Buffer.from(text).toString('base64');

export function repositoryOf(context: GraphqlContext, pull: PullRequest): Repository {
  const repository = context.backend.state.getRepositoryById(pull.repository_id);
  if (repository === undefined)
    throw new Error(`pull request ${pull.id} has no repository ${pull.repository_id}`);
  return repository;
}

/** A node the viewer may see, by global id; null when there is none (or it is hidden). */
export function resolveNode(context: GraphqlContext, id: string): unknown {
  const { state } = context.backend;
  const decoded = decodeNodeId(id);
  if (decoded === null) return null;
  const visible = (repository: Repository | undefined) =>
    repository !== undefined && context.backend.canRead(repository, context.viewer.login);
  switch (decoded.type) {
    case 'PullRequest': {
      const pull = state.getPullRequestById(decoded.id);
      return pull && visible(state.getRepositoryById(pull.repository_id)) ? pull : null;
    }
    case 'Repository': {
      const repository = state.getRepositoryById(decoded.id);
      return visible(repository) ? repository : null;
    }
    case 'User':
    case 'Organization':
      return state.getAccountById(decoded.id) ?? null;
    case 'PullRequestReview': {
      const review = state.getReview(decoded.id);
      return review && visible(state.getRepositoryById(review.repository_id)) ? review : null;
    }
    default:
      return null;
  }
}

function requireNode(context: GraphqlContext, id: string): unknown {
  const node = resolveNode(context, id);
  if (node === null) throw notFound(`Could not resolve to a node with the global id of '${id}'`);
  return node;
}

const rootOnly =
  <S>(resolve: Resolver<S>): Resolver<S> =>
  (source, args, context, info) =>
    context.dryRun ? null : resolve(source, args, context, info);

/** The type name of a record or view, for Node, Actor and RepositoryOwner. */
export const typeOf: GraphQLTypeResolver<unknown, GraphqlContext> = (value) => {
  const record = value as Record<string, unknown>;
  if (record.kind === 'PullRequestCommit' || record.kind === 'Commit' || record.kind === 'Ref')
    return record.kind as string;
  if ('pull_number' in record) return 'PullRequestReview';
  if ('head' in record && 'number' in record) return 'PullRequest';
  if ('default_branch' in record) return 'Repository';
  if ('color' in record) return 'Label';
  if (record.type === 'Organization') return 'Organization';
  return 'User';
};

function actorFields(withName = true): Record<string, Resolver<Account>> {
  const fields: Record<string, Resolver<Account>> = {
    id: (a) => a.node_id,
    databaseId: (a) => a.id,
    login: (a) => a.login,
    name: (a) => a.name,
    url: (a, _args, c) => `${c.backend.json.urls.web}/${a.login}`,
    avatarUrl: (a, _args, c) => `${c.backend.json.urls.web}/avatars/u/${a.id}`,
  };
  if (!withName) delete fields.name;
  return fields;
}

/** Users and organizations own repositories (`RepositoryOwner.repositories`). */
function ownerFields(): Record<string, Resolver<Account>> {
  return {
    ...actorFields(),
    repositories: (owner, args, c) => {
      const { state } = c.backend;
      return ownerRepositories(
        {
          repositories: state.listRepositories(),
          canRead: (repository, login) => c.backend.canRead(repository, login),
          isMember: (org, login) => {
            const account = state.getAccount(org);
            return account?.type === 'Organization' && state.isMember(account, login);
          },
        },
        owner,
        c.viewer.login,
        args as RepositoriesArgs,
      );
    },
  };
}

/** An account by login, of the type a root field asks for. */
function accountOf(context: GraphqlContext, login: string, type?: Account['type']) {
  const account = context.backend.state.getAccount(login);
  return account !== undefined && (type === undefined || account.type === type)
    ? account
    : undefined;
}

const pullState = (pull: PullRequest) =>
  pull.merged ? 'MERGED' : pull.state === 'open' ? 'OPEN' : 'CLOSED';

/**
 * GitHub computes mergeability in the background: UNKNOWN until the computation for the current
 * head and base is done. A query for a stale pull request starts that computation.
 */
function mergeableOf(pull: PullRequest, context: GraphqlContext): string {
  if (pull.state !== 'open') return 'UNKNOWN';
  const repository = repositoryOf(context, pull);
  const baseSha = repository.branches[pull.base.ref] ?? pull.base.sha;
  if (pull.mergeable === null || pull.computed_for !== `${baseSha}..${pull.head.sha}`) {
    context.backend.pulls.ensureComputed(repository, pull).catch((error: unknown) => {
      console.error(
        `github-sim: computing mergeability of ${repository.owner}/${repository.name}#${pull.number} failed`,
        error,
      );
    });
    return 'UNKNOWN';
  }
  return pull.mergeable ? 'MERGEABLE' : 'CONFLICTING';
}

/** The latest status per context (statuses come newest first). */
function latestStatuses(statuses: readonly CommitStatus[]): CommitStatus[] {
  const seen = new Set<string>();
  return statuses.filter((s) => (seen.has(s.context) ? false : (seen.add(s.context), true)));
}

/** The latest run per check name (runs come in creation order). */
function latestRuns(runs: readonly CheckRun[]): CheckRun[] {
  const latest = new Map<string, CheckRun>();
  for (const run of runs) latest.set(run.name, run);
  return [...latest.values()];
}

/** GitHub's rollup of a commit's statuses and check runs; null when it has neither. */
export function statusCheckRollupState(
  context: GraphqlContext,
  repository: Repository,
  sha: string,
): string | null {
  const statuses = latestStatuses(context.backend.state.listStatuses(repository, sha));
  const runs = latestRuns(context.backend.state.listCheckRuns(repository, sha));
  if (statuses.length === 0 && runs.length === 0) return null;
  const states = [
    ...statuses.map((s) => s.state.toUpperCase()),
    ...runs.map((r) => {
      if (r.status !== 'completed') return 'PENDING';
      return r.conclusion === 'success' || r.conclusion === 'neutral' || r.conclusion === 'skipped'
        ? 'SUCCESS'
        : 'FAILURE';
    }),
  ];
  for (const state of ['ERROR', 'FAILURE', 'PENDING']) if (states.includes(state)) return state;
  return 'SUCCESS';
}

async function pullRequestCommits(
  context: GraphqlContext,
  pull: PullRequest,
  args: ConnectionArgs,
): Promise<string[]> {
  // The last commit of a pull request is its head: the syncer's `commits(last: 1)` needs no git.
  if (args.last === 1 && args.first == null && args.before == null && args.after == null)
    return [pull.head.sha];
  const { store, repositories } = context.backend;
  const repository = repositoryOf(context, pull);
  const commits = await store.listCommits(repositories.pathOf(repository), pull.head.sha, [
    pull.base.sha,
  ]);
  return commits.map((commit) => commit.sha);
}

/** Resolvers of the query side, by type and field. */
export function queryResolvers(): Resolvers {
  const query: Record<string, Resolver<unknown>> = {
    node: rootOnly((_s, args, context) => requireNode(context, args.id as string)),
    nodes: rootOnly((_s, args, context) =>
      (args.ids as string[]).map((id) => {
        const node = resolveNode(context, id);
        // GitHub answers null for that entry and reports it; the other entries still resolve.
        return node ?? notFound(`Could not resolve to a node with the global id of '${id}'`);
      }),
    ),
    repository: rootOnly((_s, args, context) => {
      const owner = args.owner as string;
      const name = args.name as string;
      const repository = context.backend.state.getRepository(owner, name);
      if (repository === undefined || !context.backend.canRead(repository, context.viewer.login)) {
        throw notFound(`Could not resolve to a Repository with the name '${owner}/${name}'.`);
      }
      return repository;
    }),
    organization: rootOnly((_s, args, context) => {
      const login = args.login as string;
      const org = accountOf(context, login, 'Organization');
      if (org === undefined)
        throw notFound(`Could not resolve to an Organization with the login of '${login}'.`);
      return org;
    }),
    user: rootOnly((_s, args, context) => {
      const login = args.login as string;
      const user = accountOf(context, login, 'User');
      if (user === undefined)
        throw notFound(`Could not resolve to a User with the login of '${login}'.`);
      return user;
    }),
    // GitHub answers null, without an error, for a login nobody has.
    repositoryOwner: rootOnly(
      (_s, args, context) => accountOf(context, args.login as string) ?? null,
    ),
    viewer: rootOnly((_s, _args, context) => context.viewer),
    rateLimit: (_s, _args, context) => context.rateLimit,
  };

  const repository: Record<string, Resolver<Repository>> = {
    id: (r) => r.node_id,
    databaseId: (r) => r.id,
    name: (r) => r.name,
    nameWithOwner: (r) => `${r.owner}/${r.name}`,
    owner: (r, _args, c) => c.backend.state.accountOrGhost(r.owner),
    url: (r, _args, c) => `${c.backend.json.urls.web}/${r.owner}/${r.name}`,
    isArchived: (r) => r.archived,
    isFork: (r) => r.fork,
    isPrivate: (r) => r.visibility !== 'public',
    visibility: (r) => r.visibility.toUpperCase(),
    createdAt: (r) => r.created_at,
    updatedAt: (r) => r.updated_at,
    pushedAt: (r) => r.pushed_at,
    description: (r) => r.description,
    repositoryTopics: (r, args) =>
      connectionOf<RepositoryTopicView>(
        r.topics.map((name) => ({ kind: 'RepositoryTopic', repository: r, name })),
        args as ConnectionArgs,
      ),
    // An empty repository has no default branch yet: GitHub answers null.
    defaultBranchRef: (r): RefView | null => {
      const sha = r.branches[r.default_branch];
      return sha === undefined ? null : { kind: 'Ref', repository: r, name: r.default_branch, sha };
    },
    pullRequest: (r, args, c) => {
      const pull = c.backend.state.getPullRequest(r, args.number as number);
      if (pull === undefined)
        throw notFound(
          `Could not resolve to a PullRequest with the number of ${String(args.number)}.`,
        );
      return pull;
    },
  };

  const pullRequest: Record<string, Resolver<PullRequest>> = {
    id: (p) => p.node_id,
    databaseId: (p) => p.id,
    number: (p) => p.number,
    title: (p) => p.title,
    body: (p) => p.body ?? '',
    state: (p) => pullState(p),
    isDraft: (p) => p.draft,
    closed: (p) => p.state === 'closed',
    merged: (p) => p.merged,
    mergeable: (p, _args, c) => mergeableOf(p, c),
    mergeStateStatus: (p, _args, c) =>
      mergeableOf(p, c) === 'UNKNOWN' ? 'UNKNOWN' : c.backend.json.mergeableState(p).toUpperCase(),
    reviewDecision: (p, _args, c) => c.backend.pulls.reviewDecision(repositoryOf(c, p), p),
    headRefName: (p) => p.head.ref,
    headRefOid: (p) => p.head.sha,
    baseRefName: (p) => p.base.ref,
    baseRefOid: (p) => p.base.sha,
    url: (p, _args, c) => pullUrl(c, p),
    permalink: (p, _args, c) => pullUrl(c, p),
    createdAt: (p) => p.created_at,
    updatedAt: (p) => p.updated_at,
    closedAt: (p) => p.closed_at,
    mergedAt: (p) => p.merged_at,
    author: (p, _args, c) => c.backend.state.accountOrGhost(p.user),
    mergedBy: (p, _args, c) =>
      p.merged_by === null ? null : c.backend.state.accountOrGhost(p.merged_by),
    repository: (p, _args, c) => repositoryOf(c, p),
    labels: (p, args, c) => {
      const repo = repositoryOf(c, p);
      const labels = p.labels.flatMap((name) => c.backend.state.getLabel(repo, name) ?? []);
      return connectionOf(labels, args as ConnectionArgs);
    },
    reviews: (p, args, c) => {
      const states = args.states as string[] | null | undefined;
      const author = args.author as string | null | undefined;
      const reviews = c.backend.state
        .listReviews(repositoryOf(c, p), p.number)
        .filter((r) => states == null || states.includes(r.state))
        .filter((r) => author == null || r.user.toLowerCase() === author.toLowerCase())
        .sort((a, b) => a.id - b.id);
      return connectionOf(reviews, args as ConnectionArgs);
    },
    commits: async (p, args, c) => {
      const repo = repositoryOf(c, p);
      const shas = await pullRequestCommits(c, p, args as ConnectionArgs);
      const views = shas.map((sha): PullRequestCommitView => ({
        kind: 'PullRequestCommit',
        pull: p,
        repository: repo,
        sha,
      }));
      const page = connectionOf(views, args as ConnectionArgs);
      return { ...page, totalCount: Math.max(p.commits, views.length) };
    },
    autoMergeRequest: (p, _args, c) =>
      p.auto_merge === null
        ? null
        : {
            enabledAt: p.updated_at,
            enabledBy: c.backend.state.accountOrGhost(p.auto_merge.enabled_by),
            mergeMethod: p.auto_merge.merge_method.toUpperCase(),
            commitHeadline: p.auto_merge.commit_title,
            commitBody: p.auto_merge.commit_message,
            authorEmail: null,
          },
  };

  const label: Record<string, Resolver<Label>> = {
    id: (l) => l.node_id,
    name: (l) => l.name,
    color: (l) => l.color,
    description: (l) => l.description,
  };

  const review: Record<string, Resolver<Review>> = {
    id: (r) => r.node_id,
    databaseId: (r) => r.id,
    state: (r) => r.state,
    author: (r, _args, c) => c.backend.state.accountOrGhost(r.user),
    body: (r) => r.body,
    submittedAt: (r) => r.submitted_at,
    createdAt: (r) => r.submitted_at ?? new Date(0).toISOString(),
  };

  const pullRequestCommit: Record<string, Resolver<PullRequestCommitView>> = {
    id: (v) => base64(`017:PullRequestCommit${v.pull.id}:${v.sha}`),
    commit: (v): CommitView => ({ kind: 'Commit', repository: v.repository, sha: v.sha }),
  };

  const commit: Record<string, Resolver<CommitView>> = {
    id: (v) => base64(`06:Commit${v.repository.id}:${v.sha}`),
    oid: (v) => v.sha,
    abbreviatedOid: (v) => v.sha.slice(0, 7),
    committedDate: (v, _args, c) => committedDate(c, v),
    statusCheckRollup: (v, _args, c) => {
      const state = statusCheckRollupState(c, v.repository, v.sha);
      return state === null
        ? null
        : { id: base64(`017:StatusCheckRollup${v.repository.id}:${v.sha}`), state };
    },
  };

  const repositoryTopic: Record<string, Resolver<RepositoryTopicView>> = {
    id: (v) => base64(`015:RepositoryTopic${v.repository.id}:${v.name}`),
    url: (v, _args, c) => `${c.backend.json.urls.web}/topics/${v.name}`,
    topic: (v) => ({ name: v.name }),
  };

  const topic: Record<string, Resolver<{ name: string }>> = {
    id: (v) => base64(`05:Topic${v.name}`),
    name: (v) => v.name,
  };

  const ref: Record<string, Resolver<RefView>> = {
    id: (v) => base64(`03:Ref${v.repository.id}:refs/heads/${v.name}`),
    name: (v) => v.name,
    prefix: () => 'refs/heads/',
    target: (v): CommitView => ({ kind: 'Commit', repository: v.repository, sha: v.sha }),
  };

  return {
    Query: query,
    User: ownerFields(),
    Organization: ownerFields(),
    Ref: ref,
    Bot: actorFields(false),
    Repository: repository,
    PullRequest: pullRequest,
    Label: label,
    PullRequestReview: review,
    PullRequestCommit: pullRequestCommit,
    Commit: commit,
    RepositoryTopic: repositoryTopic,
    Topic: topic,
  } as Resolvers;
}

/** Commit dates by sha: a commit never changes, and a listing asks for every head's date. */
const committedDates = new Map<string, Promise<string>>();

/** The commit's committer date as GitHub formats a DateTime (UTC, whole seconds). */
function committedDate(context: GraphqlContext, v: CommitView): Promise<string> {
  let date = committedDates.get(v.sha);
  if (date === undefined) {
    const { store, repositories } = context.backend;
    date = store
      .readCommit(repositories.pathOf(v.repository), v.sha)
      .then((commit) => new Date(commit.committer.date).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    // A failed read is not remembered; the map is bounded like any cache of a long-lived sim.
    date.catch(() => committedDates.delete(v.sha));
    if (committedDates.size >= 100_000) committedDates.clear();
    committedDates.set(v.sha, date);
  }
  return date;
}

function pullUrl(context: GraphqlContext, pull: PullRequest): string {
  const repository = repositoryOf(context, pull);
  return `${context.backend.json.urls.web}/${repository.owner}/${repository.name}/pull/${pull.number}`;
}
