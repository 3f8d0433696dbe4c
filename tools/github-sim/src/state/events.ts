// The change feed: one event for every change a GitHub webhook would report. Each event carries
// copies of the full records as they were right after the change, so a consumer that delivers
// later (webhooks, with latency faults) still reports what happened, not what is now.
import type {
  Account,
  CheckRun,
  CheckSuite,
  CommitStatus,
  IssueComment,
  Label,
  PullRequest,
  Repository,
  Review,
} from './model.js';

interface ChangeBase {
  /** Monotonic sequence number of the change within this simulator. */
  seq: number;
  at: string;
  repository: Repository;
  /** The repository's owner (an organization's hooks fire for its repositories). */
  owner: Account;
  /** Who made the change. */
  sender: Account;
}

export type PullRequestAction =
  | 'opened'
  | 'edited'
  | 'closed'
  | 'reopened'
  | 'synchronize'
  | 'ready_for_review'
  | 'converted_to_draft'
  | 'labeled'
  | 'unlabeled'
  | 'auto_merge_enabled'
  | 'auto_merge_disabled';

export interface PullRequestChanged extends ChangeBase {
  type: 'pull_request';
  action: PullRequestAction;
  pullRequest: PullRequest;
  /** For `edited`: the previous values of what changed (GitHub's `changes` object). */
  changes?: {
    title?: { from: string };
    body?: { from: string | null };
    base?: { ref: { from: string }; sha: { from: string } };
  };
  /** For `labeled`/`unlabeled`. */
  label?: Label;
  /** For `synchronize`: head sha before and after. */
  before?: string;
  after?: string;
}

export interface PullRequestReviewSubmitted extends ChangeBase {
  type: 'pull_request_review';
  action: 'submitted';
  review: Review;
  pullRequest: PullRequest;
}

export interface IssueCommentCreated extends ChangeBase {
  type: 'issue_comment';
  action: 'created';
  comment: IssueComment;
  pullRequest: PullRequest;
}

export interface StatusChanged extends ChangeBase {
  type: 'status';
  status: CommitStatus;
  /** Branches whose head is the status' sha. */
  branches: { name: string; sha: string }[];
}

export interface CheckRunChanged extends ChangeBase {
  type: 'check_run';
  action: 'created' | 'completed' | 'rerequested';
  checkRun: CheckRun;
  checkSuite: CheckSuite;
}

export interface CheckSuiteChanged extends ChangeBase {
  type: 'check_suite';
  action: 'completed' | 'requested' | 'rerequested';
  checkSuite: CheckSuite;
}

export interface PushCommit {
  id: string;
  tree_id: string;
  message: string;
  timestamp: string;
  author: { name: string; email: string };
  committer: { name: string; email: string };
  added: string[];
  removed: string[];
  modified: string[];
}

export interface Pushed extends ChangeBase {
  type: 'push';
  /** Full ref name, e.g. refs/heads/main. */
  ref: string;
  /** Previous sha, 40 zeros for a created ref. */
  before: string;
  /** New sha, 40 zeros for a deleted ref. */
  after: string;
  created: boolean;
  deleted: boolean;
  forced: boolean;
  /** New commits, oldest first (at most 20, like GitHub's payload). */
  commits: PushCommit[];
  /** The login whose credentials pushed. */
  pusher: Account;
}

export interface RepositoryChanged extends ChangeBase {
  type: 'repository';
  action: 'created' | 'archived' | 'unarchived' | 'edited';
}

/** Every change the state reports, discriminated by `type` (the GitHub webhook event name). */
export type StateChange =
  | PullRequestChanged
  | PullRequestReviewSubmitted
  | IssueCommentCreated
  | StatusChanged
  | CheckRunChanged
  | CheckSuiteChanged
  | Pushed
  | RepositoryChanged;

/** A change before the state stamps it with `seq`, `at`, `repository`, `owner` and `sender`. */
export type ChangeInput<C extends StateChange = StateChange> = C extends StateChange
  ? Omit<C, 'seq' | 'at' | 'repository' | 'owner' | 'sender'>
  : never;

export const ZERO_SHA = '0000000000000000000000000000000000000000';
