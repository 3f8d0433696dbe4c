// The simulator's records: plain, JSON-serialisable objects (they are snapshotted to disk as they
// are). GitHub-shaped JSON is rendered from them by `representations/`; these records hold only
// facts, never URLs.

/** A user or an organization; GitHub gives both ids from one sequence. */
export interface Account {
  id: number;
  node_id: string;
  login: string;
  type: 'User' | 'Organization';
  name: string | null;
  email: string | null;
  /** Site administrators see and write every repository. */
  site_admin: boolean;
  /** Organization members (logins); empty for users. */
  members: string[];
  created_at: string;
  updated_at: string;
}

export type Visibility = 'public' | 'private' | 'internal';

export interface Repository {
  id: number;
  node_id: string;
  owner: string;
  name: string;
  description: string | null;
  visibility: Visibility;
  default_branch: string;
  archived: boolean;
  fork: boolean;
  /** A fork's parent (the repository it was forked from); absent for other repositories. */
  parent_id?: number;
  /** The root of a fork's network (the parent's source, or the parent itself). */
  source_id?: number;
  topics: string[];
  /** Main language, as GitHub's linguist would name it (TypeScript, Go, …), or null. */
  language: string | null;
  /** Branch name → commit sha, kept in step with the bare repository's refs. */
  branches: Record<string, string>;
  /** Next issue/pull request number: GitHub numbers both from one sequence per repository. */
  next_number: number;
  created_at: string;
  updated_at: string;
  pushed_at: string;
}

export interface Label {
  id: number;
  node_id: string;
  repository_id: number;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface GitRefSide {
  ref: string;
  sha: string;
  repository_id: number;
}

export type PullRequestState = 'open' | 'closed';

export interface PullRequest {
  id: number;
  node_id: string;
  repository_id: number;
  number: number;
  state: PullRequestState;
  locked: boolean;
  title: string;
  body: string | null;
  user: string;
  draft: boolean;
  head: GitRefSide;
  base: GitRefSide;
  /** Label names, in the order they were added. */
  labels: string[];
  merged: boolean;
  merged_at: string | null;
  merged_by: string | null;
  merge_commit_sha: string | null;
  /** null while unknown: GitHub computes mergeability in the background after a change. */
  mergeable: boolean | null;
  /** The head and base shas `mergeable` and the diff statistics were computed for. */
  computed_for: string | null;
  /**
   * `base..head` for which creating the pull request found the head straight ahead of the base
   * (and computed the statistics): the first read then knows it is mergeable without git.
   */
  fast_forward_for?: string | null;
  commits: number;
  additions: number;
  deletions: number;
  changed_files: number;
  comments: number;
  review_comments: number;
  maintainer_can_modify: boolean;
  auto_merge: AutoMerge | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface AutoMerge {
  enabled_by: string;
  merge_method: MergeMethod;
  commit_title: string | null;
  commit_message: string | null;
}

export type MergeMethod = 'merge' | 'squash' | 'rebase';

export interface IssueComment {
  id: number;
  node_id: string;
  repository_id: number;
  issue_number: number;
  user: string;
  body: string;
  created_at: string;
  updated_at: string;
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

export interface Review {
  id: number;
  node_id: string;
  repository_id: number;
  pull_number: number;
  user: string;
  body: string;
  state: ReviewState;
  commit_id: string;
  submitted_at: string | null;
}

export type CommitStatusState = 'error' | 'failure' | 'pending' | 'success';

export interface CommitStatus {
  id: number;
  node_id: string;
  repository_id: number;
  sha: string;
  state: CommitStatusState;
  context: string;
  description: string | null;
  target_url: string | null;
  creator: string;
  created_at: string;
  updated_at: string;
}

export type CheckStatus = 'queued' | 'in_progress' | 'completed';
export type CheckConclusion =
  | 'success'
  | 'failure'
  | 'neutral'
  | 'cancelled'
  | 'skipped'
  | 'timed_out'
  | 'action_required'
  | 'stale';

export interface CheckSuite {
  id: number;
  node_id: string;
  repository_id: number;
  head_sha: string;
  head_branch: string | null;
  /** The app that owns the suite (a login, e.g. "github-actions"). */
  app: string;
  status: CheckStatus;
  conclusion: CheckConclusion | null;
  created_at: string;
  updated_at: string;
}

export interface CheckRun {
  id: number;
  node_id: string;
  repository_id: number;
  check_suite_id: number;
  head_sha: string;
  name: string;
  status: CheckStatus;
  conclusion: CheckConclusion | null;
  external_id: string | null;
  details_url: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  started_at: string | null;
  completed_at: string | null;
}

/** Per-token limits; every field can be changed at runtime through the control API. */
export interface TokenLimits {
  /** Primary REST limit per window (GitHub: 5,000/h for users, 15,000/h for enterprise apps). */
  core: number;
  /** Search API limit per minute (GitHub: 30). */
  search: number;
  /** GraphQL points per window (GitHub: 5,000/h). */
  graphql: number;
  /** Length of the primary windows in seconds (GitHub: 3600). */
  windowSeconds: number;
  /** Secondary, content-creating requests per minute (GitHub: 80). */
  contentPerMinute: number;
  /** Secondary, content-creating requests per hour (GitHub: 500). */
  contentPerHour: number;
  /** Concurrent requests in flight (GitHub: 100). */
  concurrency: number;
  /** Seconds GitHub tells a client to wait in `retry-after` after a secondary limit. */
  secondaryRetryAfterSeconds: number;
  /** Turn every limit off (benchmarks). */
  disabled: boolean;
}

export interface Token {
  token: string;
  /** The user the token acts as. */
  login: string;
  /** A human label for the request log. */
  label: string;
  limits: TokenLimits;
  created_at: string;
}

export interface Hook {
  id: number;
  /** Either a repository's id or an organization's id, depending on `scope`. */
  scope: 'repository' | 'organization';
  owner_id: number;
  url: string;
  secret: string | null;
  content_type: 'json' | 'form';
  insecure_ssl: '0' | '1';
  events: string[];
  active: boolean;
  created_at: string;
  updated_at: string;
}

/** Everything the simulator persists, in one JSON document. */
export interface StateSnapshot {
  version: 1;
  nextId: number;
  accounts: Account[];
  repositories: Repository[];
  pullRequests: PullRequest[];
  labels: Label[];
  issueComments: IssueComment[];
  reviews: Review[];
  statuses: CommitStatus[];
  checkSuites: CheckSuite[];
  checkRuns: CheckRun[];
  tokens: Token[];
  hooks: Hook[];
}
