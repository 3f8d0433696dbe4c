// What webhook payloads show differently from the REST API. The shared shapes (users,
// repositories, pull requests, labels, checks, commits, hooks) come from `GithubJson`, the one
// renderer of GitHub's JSON; this file holds only the webhook variants GitHub uses.
import type { CommitInfo } from '../git/repo-store.js';
import type { PushCommit } from '../state/events.js';
import type {
  Account,
  CheckRun,
  CheckSuite,
  Hook,
  PullRequest,
  Repository,
  Review,
} from '../state/model.js';
import type { GithubJson } from '../representations/github-json.js';

type Json = Record<string, unknown>;

const toSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/** An organization as webhooks show it (GitHub's `organization-simple`). */
export function organizationJson(org: Account, json: GithubJson): Json {
  const api = `${json.urls.api}/orgs/${org.login}`;
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
    avatar_url: json.user(org).avatar_url,
    description: null,
  };
}

/** The `repository` of every payload but `push`. */
export function repositoryJson(repository: Repository, json: GithubJson): Json {
  return { ...json.repository(repository, 'nested'), custom_properties: {} };
}

/**
 * The repository of a `push` payload: GitHub renders it the legacy way, with `created_at` and
 * `pushed_at` as epoch seconds, the owner with `name`/`email`, and `stargazers`/`master_branch`.
 */
export function pushRepositoryJson(repository: Repository, owner: Account, json: GithubJson): Json {
  return {
    ...repositoryJson(repository, json),
    owner: { name: owner.login, email: owner.email, ...json.user(owner) },
    created_at: toSeconds(repository.created_at),
    pushed_at: toSeconds(repository.pushed_at),
    stargazers: 0,
    master_branch: repository.default_branch,
    ...(owner.type === 'Organization' ? { organization: owner.login } : {}),
  };
}

/**
 * A pull request as `pull_request` events show it: the REST pull request plus the repository's
 * merge settings. `simple` drops merge state and counts, as `pull_request_review` events do.
 */
export function pullRequestJson(pull: PullRequest, json: GithubJson, simple = false): Json {
  if (simple) return json.pullRequest(pull, false);
  return {
    ...json.pullRequest(pull, true),
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

/** A review as `pull_request_review` events show it: state in lower case, an empty body as null. */
export function reviewJson(review: Review, json: GithubJson): Json {
  const rest = json.review(review);
  return {
    ...rest,
    body: review.body === '' ? null : review.body,
    state: review.state.toLowerCase(),
    submitted_at: review.submitted_at,
  };
}

/** A check suite with the commit it ran on (`head_commit`), read from git when it could be. */
export function checkSuiteJson(
  suite: CheckSuite,
  headCommit: CommitInfo | null,
  json: GithubJson,
): Json {
  const { repository: _repository, ...rest } = json.checkSuite(suite, headCommit ?? undefined);
  return headCommit === null
    ? { ...rest, head_commit: unknownCommit(suite.head_sha, suite.created_at) }
    : rest;
}

function unknownCommit(sha: string, at: string): Json {
  const nobody = { name: 'unknown', email: 'unknown@users.noreply.invalid' };
  return { id: sha, tree_id: sha, message: '', timestamp: at, author: nobody, committer: nobody };
}

/** A check run with its whole check suite embedded, as `check_run` events show it. */
export function checkRunJson(run: CheckRun, suite: CheckSuite, json: GithubJson): Json {
  const rest = json.checkRun(run);
  const { head_commit: _headCommit, ...embeddedSuite } = checkSuiteJson(suite, null, json);
  return {
    ...rest,
    external_id: run.external_id ?? '',
    details_url: rest.details_url ?? rest.html_url,
    started_at: run.started_at ?? suite.created_at,
    check_suite: embeddedSuite,
  };
}

/** The commit of a `status` event; a commit git could not describe still gets every field. */
export function statusCommitJson(
  repository: Repository,
  sha: string,
  commit: CommitInfo | null,
  json: GithubJson,
): Json {
  if (commit !== null) return json.commit(repository, commit);
  const who = {
    name: 'unknown',
    email: 'unknown@users.noreply.invalid',
    date: new Date(0).toISOString(),
  };
  return json.commit(repository, {
    sha,
    tree: sha,
    parents: [],
    author: who,
    committer: who,
    message: '',
  });
}

/** One entry of a push's `commits` (and its `head_commit`). */
export function pushCommitJson(
  commit: PushCommit,
  repository: Repository,
  json: GithubJson,
  distinct: boolean,
): Json {
  return {
    id: commit.id,
    tree_id: commit.tree_id,
    distinct,
    message: commit.message,
    timestamp: commit.timestamp,
    url: `${json.urls.web}/${repository.owner}/${repository.name}/commit/${commit.id}`,
    author: { name: commit.author.name, email: commit.author.email },
    committer: { name: commit.committer.name, email: commit.committer.email },
    added: commit.added,
    removed: commit.removed,
    modified: commit.modified,
  };
}

/** GitHub's summary of a hook's most recent delivery. */
export interface HookLastResponse {
  code: number | null;
  status: string;
  message: string | null;
}

/** A hook as the `ping` event shows it, with the outcome of its latest delivery. */
export function hookJson(hook: Hook, lastResponse: HookLastResponse, json: GithubJson): Json {
  const rest = json.hook(hook);
  if (hook.scope === 'organization') delete rest.test_url;
  return { ...rest, last_response: lastResponse };
}
