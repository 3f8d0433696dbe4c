// Webhook payloads from the state's change feed: one pure function per event, each taking the
// records a change carries and returning GitHub's payload for it. Nothing here sends anything.
import type { CommitInfo } from '../git/repo-store.js';
import type {
  CheckRunChanged,
  CheckSuiteChanged,
  PullRequestChanged,
  PullRequestReviewSubmitted,
  Pushed,
  StateChange,
  StatusChanged,
} from '../state/events.js';
import type { Account, Hook, Repository } from '../state/model.js';
import type { GithubJson } from '../representations/github-json.js';
import {
  checkRunJson,
  checkSuiteJson,
  hookJson,
  organizationJson,
  pullRequestJson,
  pushCommitJson,
  pushRepositoryJson,
  repositoryJson,
  reviewJson,
  statusCommitJson,
  type HookLastResponse,
} from './payload-objects.js';

/** One webhook event, ready to be delivered to every hook that subscribes to it. */
export interface WebhookEvent {
  /** GitHub's event name, sent as `X-GitHub-Event`. */
  readonly name: string;
  /** The payload's `action`, when the event has actions. */
  readonly action?: string;
  readonly payload: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** The events the sim delivers, with the actions it produces for each. */
export const deliveredEvents = {
  pull_request: [
    'opened',
    'edited',
    'closed',
    'reopened',
    'synchronize',
    'ready_for_review',
    'converted_to_draft',
    'labeled',
    'unlabeled',
    'auto_merge_enabled',
    'auto_merge_disabled',
  ],
  pull_request_review: ['submitted'],
  check_suite: ['requested', 'rerequested', 'completed'],
  check_run: ['created', 'rerequested', 'completed'],
  status: [],
  push: [],
  ping: [],
} as const satisfies Record<string, readonly string[]>;

/** The sha of the commit a change's payload describes in full, if any (it is read from git). */
export function commitShaFor(change: StateChange): string | null {
  switch (change.type) {
    case 'status':
      return change.status.sha;
    case 'check_suite':
      return change.checkSuite.head_sha;
    case 'push':
      return change.deleted ? null : change.after;
    default:
      return null;
  }
}

/**
 * GitHub's webhook event for a change, or null for changes the sim does not deliver.
 * `commit` is the commit `commitShaFor(change)` names, when it could be read.
 */
export function webhookEventFor(
  change: StateChange,
  json: GithubJson,
  commit: CommitInfo | null = null,
): WebhookEvent | null {
  switch (change.type) {
    case 'pull_request':
      return pullRequestEvent(change, json);
    case 'pull_request_review':
      return pullRequestReviewEvent(change, json);
    case 'check_suite':
      return checkSuiteEvent(change, json, commit);
    case 'check_run':
      return checkRunEvent(change, json);
    case 'status':
      return statusEvent(change, json, commit);
    case 'push':
      return pushEvent(change, json, commit);
    default:
      return null;
  }
}

/** `repository`, `organization` (for an organization's repository) and `sender`. */
function envelope(change: StateChange, json: GithubJson): Json {
  return {
    repository: repositoryJson(change.repository, json),
    ...organizationOf(change.owner, json),
    sender: json.user(change.sender),
  };
}

function organizationOf(owner: Account, json: GithubJson): Json {
  return owner.type === 'Organization' ? { organization: organizationJson(owner, json) } : {};
}

export function pullRequestEvent(change: PullRequestChanged, json: GithubJson): WebhookEvent {
  const payload: Json = {
    action: change.action,
    number: change.pullRequest.number,
    pull_request: pullRequestJson(change.pullRequest, json),
  };
  if (change.action === 'edited') {
    const changes: Json = {};
    if (change.changes?.title) changes.title = { from: change.changes.title.from };
    if (change.changes?.body) changes.body = { from: change.changes.body.from ?? '' };
    if (change.changes?.base) changes.base = change.changes.base;
    payload.changes = changes;
  }
  if ((change.action === 'labeled' || change.action === 'unlabeled') && change.label) {
    payload.label = json.label(change.label);
  }
  if (change.action === 'synchronize') {
    payload.before = change.before ?? change.pullRequest.head.sha;
    payload.after = change.after ?? change.pullRequest.head.sha;
  }
  if (change.action === 'auto_merge_disabled') {
    payload.reason = 'Auto-merge was disabled';
  }
  return {
    name: 'pull_request',
    action: change.action,
    payload: { ...payload, ...envelope(change, json) },
  };
}

export function pullRequestReviewEvent(
  change: PullRequestReviewSubmitted,
  json: GithubJson,
): WebhookEvent {
  return {
    name: 'pull_request_review',
    action: change.action,
    payload: {
      action: change.action,
      review: reviewJson(change.review, json),
      pull_request: pullRequestJson(change.pullRequest, json, true),
      ...envelope(change, json),
    },
  };
}

export function checkSuiteEvent(
  change: CheckSuiteChanged,
  json: GithubJson,
  headCommit: CommitInfo | null,
): WebhookEvent {
  return {
    name: 'check_suite',
    action: change.action,
    payload: {
      action: change.action,
      check_suite: checkSuiteJson(change.checkSuite, headCommit, json),
      ...envelope(change, json),
    },
  };
}

export function checkRunEvent(change: CheckRunChanged, json: GithubJson): WebhookEvent {
  return {
    name: 'check_run',
    action: change.action,
    payload: {
      action: change.action,
      check_run: checkRunJson(change.checkRun, change.checkSuite, json),
      ...envelope(change, json),
    },
  };
}

export function statusEvent(
  change: StatusChanged,
  json: GithubJson,
  commit: CommitInfo | null,
): WebhookEvent {
  const { repository, status } = change;
  const { url: _url, node_id: _nodeId, creator: _creator, ...rest } = json.status(status);
  return {
    name: 'status',
    payload: {
      ...rest,
      sha: status.sha,
      name: `${repository.owner}/${repository.name}`,
      commit: statusCommitJson(repository, status.sha, commit, json),
      branches: change.branches
        .slice(0, 10)
        .map((branch) => json.shortBranch(repository, branch.name, branch.sha)),
      ...envelope(change, json),
    },
  };
}

export function pushEvent(
  change: Pushed,
  json: GithubJson,
  headCommit: CommitInfo | null,
): WebhookEvent {
  const { repository } = change;
  const web = json.urls.web;
  const fullName = `${repository.owner}/${repository.name}`;
  const branch = change.ref.replace(/^refs\/(heads|tags)\//, '');
  const commits = change.commits.map((commit) => pushCommitJson(commit, repository, json, true));
  const compare = change.created
    ? `${web}/${fullName}/compare/${branch}`
    : `${web}/${fullName}/compare/${change.before.slice(0, 12)}...${change.after.slice(0, 12)}`;
  return {
    name: 'push',
    payload: {
      ref: change.ref,
      before: change.before,
      after: change.after,
      repository: pushRepositoryJson(repository, change.owner, json),
      pusher: { name: change.pusher.login, email: change.pusher.email },
      ...organizationOf(change.owner, json),
      sender: json.user(change.sender),
      created: change.created,
      deleted: change.deleted,
      forced: change.forced,
      base_ref: null,
      compare,
      commits,
      head_commit: change.deleted ? null : pushHeadCommit(change, commits, headCommit, json),
    },
  };
}

/** The commit the ref now points at: the last new commit, or (no new commits) the one read from git. */
function pushHeadCommit(
  change: Pushed,
  commits: Json[],
  headCommit: CommitInfo | null,
  json: GithubJson,
): Json | null {
  const last = commits.at(-1);
  if ((last !== undefined && last.id === change.after) || headCommit === null) return last ?? null;
  const commit = {
    id: headCommit.sha,
    tree_id: headCommit.tree,
    message: headCommit.message,
    timestamp: headCommit.committer.date,
    author: headCommit.author,
    committer: headCommit.committer,
    added: [],
    removed: [],
    modified: [],
  };
  return pushCommitJson(commit, change.repository, json, false);
}

const zen = [
  'Design for failure.',
  'Keep it logically awesome.',
  'Non-blocking is better than blocking.',
  'Practicality beats purity.',
  'Responsive is better than fast.',
  'Approachable is better than simple.',
  'Favor focus over features.',
  'Speak like a human.',
  'Encourage flow.',
  'Anything added dilutes everything else.',
];

/** Where a hook lives: its repository or its organization, whichever its scope names. */
export interface HookTarget {
  repository?: Repository;
  organization?: Account;
  /** The account that created the hook, or the owner when unknown. */
  sender: Account;
}

/** The `ping` GitHub sends when a hook is created (or pinged): it reaches the hook whatever its events. */
export function pingEvent(
  hook: Hook,
  target: HookTarget,
  json: GithubJson,
  lastResponse: HookLastResponse,
): WebhookEvent {
  const payload: Json = {
    zen: zen[hook.id % zen.length],
    hook_id: hook.id,
    hook: hookJson(hook, lastResponse, json),
  };
  if (target.repository !== undefined) payload.repository = repositoryJson(target.repository, json);
  if (target.organization !== undefined)
    payload.organization = organizationJson(target.organization, json);
  payload.sender = json.user(target.sender);
  return { name: 'ping', payload };
}
