// The objects webhook payloads are made of (users, repositories, pull requests, reviews, checks,
// statuses, commits), rendered from the sim's records exactly as GitHub renders them in webhooks.
// Pure functions: every input is passed in, nothing is read from elsewhere.
import { createHash } from 'node:crypto';
import type { CommitInfo } from '../git/repo-store.js';
import type { PushCommit } from '../state/events.js';
import type {
  Account,
  CheckRun,
  CheckSuite,
  CommitStatus,
  Hook,
  Label,
  PullRequest,
  Repository,
  Review,
} from '../state/model.js';
import { hostOf, type SimUrls } from './urls.js';

/** What rendering needs from the state beyond the records at hand. */
export interface PayloadLookups {
  /** The account with this login, or GitHub's "ghost" for one that does not exist. */
  accountOrGhost(login: string): Account;
  getRepositoryById(id: number): Repository | undefined;
  getLabel(repository: Repository, name: string): Label | undefined;
  listPullRequests(repository: Repository): PullRequest[];
}

export interface RenderContext {
  readonly urls: SimUrls;
  readonly lookups: PayloadLookups;
}

type Json = Record<string, unknown>;

const toSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

export function userJson(account: Account, urls: SimUrls): Json {
  const api = `${urls.api}/users/${account.login}`;
  return {
    login: account.login,
    id: account.id,
    node_id: account.node_id,
    avatar_url: `${urls.web}/avatars/u/${account.id}`,
    gravatar_id: '',
    url: api,
    html_url: `${urls.web}/${account.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: account.type,
    user_view_type: 'public',
    site_admin: account.site_admin,
  };
}

export function organizationJson(org: Account, urls: SimUrls): Json {
  const api = `${urls.api}/orgs/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: org.node_id,
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${urls.web}/avatars/u/${org.id}`,
    description: null,
  };
}

function repositoryUrls(repository: Repository, urls: SimUrls): Json {
  const fullName = `${repository.owner}/${repository.name}`;
  const api = `${urls.api}/repos/${fullName}`;
  const host = hostOf(urls);
  return {
    html_url: `${urls.web}/${fullName}`,
    url: api,
    forks_url: `${api}/forks`,
    keys_url: `${api}/keys{/key_id}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    teams_url: `${api}/teams`,
    hooks_url: `${api}/hooks`,
    issue_events_url: `${api}/issues/events{/number}`,
    events_url: `${api}/events`,
    assignees_url: `${api}/assignees{/user}`,
    branches_url: `${api}/branches{/branch}`,
    tags_url: `${api}/tags`,
    blobs_url: `${api}/git/blobs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    trees_url: `${api}/git/trees{/sha}`,
    statuses_url: `${api}/statuses/{sha}`,
    languages_url: `${api}/languages`,
    stargazers_url: `${api}/stargazers`,
    contributors_url: `${api}/contributors`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    commits_url: `${api}/commits{/sha}`,
    git_commits_url: `${api}/git/commits{/sha}`,
    comments_url: `${api}/comments{/number}`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    contents_url: `${api}/contents/{+path}`,
    compare_url: `${api}/compare/{base}...{head}`,
    merges_url: `${api}/merges`,
    archive_url: `${api}/{archive_format}{/ref}`,
    downloads_url: `${api}/downloads`,
    issues_url: `${api}/issues{/number}`,
    pulls_url: `${api}/pulls{/number}`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    labels_url: `${api}/labels{/name}`,
    releases_url: `${api}/releases{/id}`,
    deployments_url: `${api}/deployments`,
    git_url: `git://${host}/${fullName}.git`,
    ssh_url: `git@${host}:${fullName}.git`,
    clone_url: `${urls.web}/${fullName}.git`,
    svn_url: `${urls.web}/${fullName}`,
  };
}

/** The open pull requests of a repository: GitHub's `open_issues_count` counts them too. */
function openCount(repository: Repository, lookups: PayloadLookups): number {
  return lookups.listPullRequests(repository).filter((pull) => pull.state === 'open').length;
}

/**
 * A repository as webhooks and pull request `head.repo`/`base.repo` show it (GitHub's full
 * repository object).
 */
export function repositoryJson(repository: Repository, context: RenderContext): Json {
  const owner = context.lookups.accountOrGhost(repository.owner);
  const open = openCount(repository, context.lookups);
  return {
    id: repository.id,
    node_id: repository.node_id,
    name: repository.name,
    full_name: `${repository.owner}/${repository.name}`,
    private: repository.visibility !== 'public',
    owner: userJson(owner, context.urls),
    description: repository.description,
    fork: repository.fork,
    ...repositoryUrls(repository, context.urls),
    mirror_url: null,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: repository.language,
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    archived: repository.archived,
    disabled: false,
    open_issues_count: open,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: repository.topics,
    visibility: repository.visibility,
    forks: 0,
    open_issues: open,
    watchers: 0,
    default_branch: repository.default_branch,
    created_at: repository.created_at,
    updated_at: repository.updated_at,
    pushed_at: repository.pushed_at,
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_rebase_merge: true,
    allow_auto_merge: true,
    delete_branch_on_merge: false,
    allow_update_branch: false,
    use_squash_pr_title_as_default: false,
    squash_merge_commit_message: 'COMMIT_MESSAGES',
    squash_merge_commit_title: 'COMMIT_OR_PR_TITLE',
    merge_commit_message: 'PR_TITLE',
    merge_commit_title: 'MERGE_MESSAGE',
  };
}

/**
 * The repository of a `push` payload: GitHub renders it the legacy way, with `created_at` and
 * `pushed_at` as epoch seconds, the owner with `name`/`email`, and `stargazers`/`master_branch`.
 */
export function pushRepositoryJson(repository: Repository, context: RenderContext): Json {
  const base = repositoryJson(repository, context);
  const owner = context.lookups.accountOrGhost(repository.owner);
  return {
    ...base,
    owner: { name: owner.login, email: owner.email, ...userJson(owner, context.urls) },
    created_at: toSeconds(repository.created_at),
    pushed_at: toSeconds(repository.pushed_at),
    stargazers: 0,
    master_branch: repository.default_branch,
    ...(owner.type === 'Organization' ? { organization: owner.login } : {}),
  };
}

export function labelJson(label: Label, repository: Repository, urls: SimUrls): Json {
  return {
    id: label.id,
    node_id: label.node_id,
    url: `${urls.api}/repos/${repository.owner}/${repository.name}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: label.default,
    description: label.description,
  };
}

/** How GitHub relates an author to a repository in `author_association`. */
export function authorAssociation(
  login: string,
  repository: Repository,
  lookups: PayloadLookups,
): string {
  if (login.toLowerCase() === repository.owner.toLowerCase()) return 'OWNER';
  const owner = lookups.accountOrGhost(repository.owner);
  if (
    owner.type === 'Organization' &&
    owner.members.some((m) => m.toLowerCase() === login.toLowerCase())
  ) {
    return 'MEMBER';
  }
  return 'NONE';
}

function pullRequestUrls(pull: PullRequest, repository: Repository, urls: SimUrls): Json {
  const fullName = `${repository.owner}/${repository.name}`;
  const api = `${urls.api}/repos/${fullName}`;
  return {
    url: `${api}/pulls/${pull.number}`,
    html_url: `${urls.web}/${fullName}/pull/${pull.number}`,
    diff_url: `${urls.web}/${fullName}/pull/${pull.number}.diff`,
    patch_url: `${urls.web}/${fullName}/pull/${pull.number}.patch`,
    issue_url: `${api}/issues/${pull.number}`,
    commits_url: `${api}/pulls/${pull.number}/commits`,
    review_comments_url: `${api}/pulls/${pull.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pull.number}/comments`,
    statuses_url: `${api}/statuses/${pull.head.sha}`,
  };
}

function pullRequestLinks(pull: PullRequest, repository: Repository, urls: SimUrls): Json {
  const links = pullRequestUrls(pull, repository, urls);
  const href = (key: string) => ({ href: links[key] });
  return {
    self: href('url'),
    html: href('html_url'),
    issue: href('issue_url'),
    comments: href('comments_url'),
    review_comments: href('review_comments_url'),
    review_comment: href('review_comment_url'),
    commits: href('commits_url'),
    statuses: href('statuses_url'),
  };
}

function refSideJson(side: PullRequest['head'], context: RenderContext): Json {
  const repository = context.lookups.getRepositoryById(side.repository_id);
  if (repository === undefined) {
    return { label: side.ref, ref: side.ref, sha: side.sha, user: null, repo: null };
  }
  const owner = context.lookups.accountOrGhost(repository.owner);
  return {
    label: `${repository.owner}:${side.ref}`,
    ref: side.ref,
    sha: side.sha,
    user: userJson(owner, context.urls),
    repo: repositoryJson(repository, context),
  };
}

/** GitHub's `mergeable_state` from what the sim knows: clean, dirty, draft or unknown. */
export function mergeableState(pull: PullRequest): string {
  if (pull.state === 'closed' || pull.mergeable === null) return 'unknown';
  if (!pull.mergeable) return 'dirty';
  return pull.draft ? 'draft' : 'clean';
}

/**
 * A pull request as `pull_request` events show it: the REST pull request object plus the
 * repository's merge settings. `simple` leaves out what GitHub leaves out of the pull request in
 * `pull_request_review` events (merge state and counts).
 */
export function pullRequestJson(
  pull: PullRequest,
  repository: Repository,
  context: RenderContext,
  simple = false,
): Json {
  const { urls, lookups } = context;
  const author = lookups.accountOrGhost(pull.user);
  const labels = pull.labels.flatMap((name) => {
    const label = lookups.getLabel(repository, name);
    return label === undefined ? [] : [labelJson(label, repository, urls)];
  });
  const base: Json = {
    ...pullRequestUrls(pull, repository, urls),
    id: pull.id,
    node_id: pull.node_id,
    number: pull.number,
    state: pull.state,
    locked: pull.locked,
    title: pull.title,
    user: userJson(author, urls),
    body: pull.body,
    created_at: pull.created_at,
    updated_at: pull.updated_at,
    closed_at: pull.closed_at,
    merged_at: pull.merged_at,
    merge_commit_sha: pull.merge_commit_sha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels,
    milestone: null,
    draft: pull.draft,
    head: refSideJson(pull.head, context),
    base: refSideJson(pull.base, context),
    _links: pullRequestLinks(pull, repository, urls),
    author_association: authorAssociation(pull.user, repository, lookups),
    auto_merge:
      pull.auto_merge === null
        ? null
        : {
            enabled_by: userJson(lookups.accountOrGhost(pull.auto_merge.enabled_by), urls),
            merge_method: pull.auto_merge.merge_method,
            commit_title: pull.auto_merge.commit_title ?? pull.title,
            commit_message: pull.auto_merge.commit_message ?? '',
          },
    active_lock_reason: null,
  };
  if (simple) return base;
  return {
    ...base,
    merged: pull.merged,
    mergeable: pull.state === 'open' ? pull.mergeable : null,
    rebaseable: pull.state === 'open' ? pull.mergeable : null,
    mergeable_state: mergeableState(pull),
    merged_by:
      pull.merged_by === null ? null : userJson(lookups.accountOrGhost(pull.merged_by), urls),
    comments: pull.comments,
    review_comments: pull.review_comments,
    maintainer_can_modify: pull.maintainer_can_modify,
    commits: pull.commits,
    additions: pull.additions,
    deletions: pull.deletions,
    changed_files: pull.changed_files,
    allow_auto_merge: true,
    allow_update_branch: false,
    delete_branch_on_merge: false,
    merge_commit_message: 'PR_TITLE',
    merge_commit_title: 'MERGE_MESSAGE',
    squash_merge_commit_message: 'COMMIT_MESSAGES',
    squash_merge_commit_title: 'COMMIT_OR_PR_TITLE',
    use_squash_pr_title_as_default: false,
  };
}

export function reviewJson(
  review: Review,
  pull: PullRequest,
  repository: Repository,
  context: RenderContext,
): Json {
  const { urls, lookups } = context;
  const fullName = `${repository.owner}/${repository.name}`;
  const html = `${urls.web}/${fullName}/pull/${pull.number}#pullrequestreview-${review.id}`;
  const pullUrl = `${urls.api}/repos/${fullName}/pulls/${pull.number}`;
  return {
    id: review.id,
    node_id: review.node_id,
    user: userJson(lookups.accountOrGhost(review.user), urls),
    body: review.body === '' ? null : review.body,
    commit_id: review.commit_id,
    submitted_at: review.submitted_at,
    // GitHub's review webhooks spell review states in lower case, unlike the REST API.
    state: review.state.toLowerCase(),
    html_url: html,
    pull_request_url: pullUrl,
    author_association: authorAssociation(review.user, repository, lookups),
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
  };
}

/** A stable numeric id for an app known only by its slug (GitHub Actions is app 15368). */
export function appId(slug: string): number {
  if (slug === 'github-actions') return 15368;
  return 100000 + (createHash('sha256').update(slug).digest().readUInt32BE(0) % 900000);
}

export function appJson(slug: string, context: RenderContext): Json {
  const id = appId(slug);
  const owner = context.lookups.accountOrGhost(slug === 'github-actions' ? 'github' : slug);
  const name = slug === 'github-actions' ? 'GitHub Actions' : slug;
  return {
    id,
    slug,
    node_id: Buffer.from(`011:Integration${id}`).toString('base64'),
    owner: userJson(owner, context.urls),
    name,
    description: '',
    external_url: `${context.urls.web}/apps/${slug}`,
    html_url: `${context.urls.web}/apps/${slug}`,
    created_at: '2018-07-30T09:30:17Z',
    updated_at: '2018-07-30T09:30:17Z',
    permissions: { checks: 'write', metadata: 'read', pull_requests: 'read', statuses: 'write' },
    events: ['check_run', 'check_suite', 'pull_request', 'push'],
  };
}

/** The open pull requests whose head is `sha` (on `branch`, when given), as checks list them. */
function checkPullRequests(
  repository: Repository,
  sha: string,
  branch: string | null,
  context: RenderContext,
): Json[] {
  const repoRef = (id: number) => {
    const repo = context.lookups.getRepositoryById(id) ?? repository;
    return {
      id: repo.id,
      url: `${context.urls.api}/repos/${repo.owner}/${repo.name}`,
      name: repo.name,
    };
  };
  return context.lookups
    .listPullRequests(repository)
    .filter(
      (pull) =>
        pull.state === 'open' &&
        pull.head.sha === sha &&
        (branch === null || pull.head.ref === branch),
    )
    .map((pull) => ({
      url: `${context.urls.api}/repos/${repository.owner}/${repository.name}/pulls/${pull.number}`,
      id: pull.id,
      number: pull.number,
      head: { ref: pull.head.ref, sha: pull.head.sha, repo: repoRef(pull.head.repository_id) },
      base: { ref: pull.base.ref, sha: pull.base.sha, repo: repoRef(pull.base.repository_id) },
    }));
}

/** The commit as GitHub's `head_commit`/`commits[]` entries show it. */
export function simpleCommitJson(commit: CommitInfo): Json {
  return {
    id: commit.sha,
    tree_id: commit.tree,
    message: commit.message,
    timestamp: commit.committer.date,
    author: { name: commit.author.name, email: commit.author.email },
    committer: { name: commit.committer.name, email: commit.committer.email },
  };
}

export function checkSuiteJson(
  suite: CheckSuite,
  repository: Repository,
  headCommit: CommitInfo | null,
  context: RenderContext,
): Json {
  const api = `${context.urls.api}/repos/${repository.owner}/${repository.name}`;
  return {
    id: suite.id,
    node_id: suite.node_id,
    head_branch: suite.head_branch,
    head_sha: suite.head_sha,
    status: suite.status,
    conclusion: suite.conclusion,
    url: `${api}/check-suites/${suite.id}`,
    before: null,
    after: suite.head_sha,
    pull_requests: checkPullRequests(repository, suite.head_sha, suite.head_branch, context),
    app: appJson(suite.app, context),
    created_at: suite.created_at,
    updated_at: suite.updated_at,
    rerequestable: true,
    runs_rerequestable: true,
    latest_check_runs_count: 0,
    check_runs_url: `${api}/check-suites/${suite.id}/check-runs`,
    head_commit:
      headCommit === null
        ? fallbackCommit(suite.head_sha, suite.created_at)
        : simpleCommitJson(headCommit),
  };
}

function fallbackCommit(sha: string, at: string): Json {
  const nobody = { name: 'unknown', email: 'unknown@users.noreply.invalid' };
  return { id: sha, tree_id: sha, message: '', timestamp: at, author: nobody, committer: nobody };
}

export function checkRunJson(
  run: CheckRun,
  suite: CheckSuite,
  repository: Repository,
  context: RenderContext,
): Json {
  const fullName = `${repository.owner}/${repository.name}`;
  const api = `${context.urls.api}/repos/${fullName}`;
  const pullRequests = checkPullRequests(repository, run.head_sha, suite.head_branch, context);
  return {
    id: run.id,
    name: run.name,
    node_id: run.node_id,
    head_sha: run.head_sha,
    external_id: run.external_id ?? '',
    url: `${api}/check-runs/${run.id}`,
    html_url: `${context.urls.web}/${fullName}/runs/${run.id}`,
    details_url: run.details_url ?? `${context.urls.web}/${fullName}/runs/${run.id}`,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.started_at ?? suite.created_at,
    completed_at: run.completed_at,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: 0,
      annotations_url: `${api}/check-runs/${run.id}/annotations`,
    },
    check_suite: {
      id: suite.id,
      node_id: suite.node_id,
      head_branch: suite.head_branch,
      head_sha: suite.head_sha,
      status: suite.status,
      conclusion: suite.conclusion,
      url: `${api}/check-suites/${suite.id}`,
      before: null,
      after: suite.head_sha,
      pull_requests: pullRequests,
      app: appJson(suite.app, context),
      created_at: suite.created_at,
      updated_at: suite.updated_at,
    },
    app: appJson(suite.app, context),
    pull_requests: pullRequests,
  };
}

/** A git identity matched to the account with that email, as GitHub links commit authors. */
function commitUser(
  email: string,
  context: RenderContext,
  accounts: readonly Account[],
): Json | null {
  const account = accounts.find(
    (a) => a.email !== null && a.email.toLowerCase() === email.toLowerCase(),
  );
  return account === undefined ? null : userJson(account, context.urls);
}

export function statusCommitJson(
  repository: Repository,
  commit: CommitInfo,
  context: RenderContext,
  accounts: readonly Account[] = [],
): Json {
  const fullName = `${repository.owner}/${repository.name}`;
  const api = `${context.urls.api}/repos/${fullName}`;
  return {
    sha: commit.sha,
    node_id: commitNodeId(repository, commit.sha),
    commit: {
      author: { name: commit.author.name, email: commit.author.email, date: commit.author.date },
      committer: {
        name: commit.committer.name,
        email: commit.committer.email,
        date: commit.committer.date,
      },
      message: commit.message,
      tree: { sha: commit.tree, url: `${api}/git/trees/${commit.tree}` },
      url: `${api}/git/commits/${commit.sha}`,
      comment_count: 0,
      verification: {
        verified: false,
        reason: 'unsigned',
        signature: null,
        payload: null,
        verified_at: null,
      },
    },
    url: `${api}/commits/${commit.sha}`,
    html_url: `${context.urls.web}/${fullName}/commit/${commit.sha}`,
    comments_url: `${api}/commits/${commit.sha}/comments`,
    author: commitUser(commit.author.email, context, accounts),
    committer: commitUser(commit.committer.email, context, accounts),
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${api}/commits/${sha}`,
      html_url: `${context.urls.web}/${fullName}/commit/${sha}`,
    })),
  };
}

/** GitHub's commit node ids name the repository and the sha; clients treat them as opaque. */
export function commitNodeId(repository: Repository, sha: string): string {
  return Buffer.from(`06:Commit${repository.id}:${sha}`).toString('base64');
}

export function statusJson(status: CommitStatus): Json {
  return {
    id: status.id,
    sha: status.sha,
    state: status.state,
    description: status.description,
    target_url: status.target_url,
    context: status.context,
    created_at: status.created_at,
    updated_at: status.updated_at,
  };
}

export function pushCommitJson(
  commit: PushCommit,
  repository: Repository,
  urls: SimUrls,
  distinct: boolean,
): Json {
  return {
    id: commit.id,
    tree_id: commit.tree_id,
    distinct,
    message: commit.message,
    timestamp: commit.timestamp,
    url: `${urls.web}/${repository.owner}/${repository.name}/commit/${commit.id}`,
    author: { name: commit.author.name, email: commit.author.email },
    committer: { name: commit.committer.name, email: commit.committer.email },
    added: commit.added,
    removed: commit.removed,
    modified: commit.modified,
  };
}

/** A hook as the REST API and `ping` events show it. */
export function hookJson(
  hook: Hook,
  urls: SimUrls,
  path: string,
  lastResponse: HookLastResponse,
): Json {
  const api = `${urls.api}/${path}/hooks/${hook.id}`;
  return {
    type: hook.scope === 'repository' ? 'Repository' : 'Organization',
    id: hook.id,
    name: 'web',
    active: hook.active,
    events: hook.events,
    config: {
      content_type: hook.content_type,
      insecure_ssl: hook.insecure_ssl,
      url: hook.url,
      ...(hook.secret === null ? {} : { secret: '********' }),
    },
    updated_at: hook.updated_at,
    created_at: hook.created_at,
    url: api,
    ...(hook.scope === 'repository' ? { test_url: `${api}/test` } : {}),
    ping_url: `${api}/pings`,
    deliveries_url: `${api}/deliveries`,
    last_response: lastResponse,
  };
}

/** GitHub's summary of a hook's most recent delivery. */
export interface HookLastResponse {
  code: number | null;
  status: string;
  message: string | null;
}
