// The `CodeHost` port: everything Campaigns asks of a code host, free of any client library.
// Repositories are named host-qualified (`HOST/OWNER/NAME`) everywhere in this interface.

/** What a code host supports; the planner avoids operations a host lacks. */
export interface CodeHostCapabilities {
  drafts: boolean;
  autoMerge: boolean;
  labels: boolean;
  /** Pushing a changeset's branch to a fork of its repository and opening it from there. */
  forks: boolean;
}

export type Visibility = 'public' | 'private' | 'internal';

/** A repository as listings and `getRepository` return it. */
export interface RepositoryInfo {
  /** `HOST/OWNER/NAME`. */
  name: string;
  owner: string;
  shortName: string;
  /** The default branch; '' for an empty repository (GitHub names none until the first push). */
  defaultBranch: string;
  /** The default branch's head commit; null for an empty repository. */
  headCommit: string | null;
  archived: boolean;
  fork: boolean;
  visibility: Visibility;
  /** When any branch was last pushed to (ISO 8601), null if never: what `pushed` orders by. */
  pushedAt: string | null;
  /**
   * When the repository last changed in any way (ISO 8601): settings such as archived,
   * visibility or the default branch, a rename, a push. What `updated` orders by.
   */
  updatedAt: string;
  /** The host's id for the repository (GraphQL node id on GitHub); it survives renames. */
  nodeId: string;
  webUrl: string;
  /** The repository's description; null when it has none. */
  description: string | null;
  /** The repository's topics, lower case as the host keeps them. */
  topics: string[];
  /** When the default branch's head commit was committed (ISO 8601); null for an empty repository. */
  headCommittedAt: string | null;
}

/** One page of a listing; pass `nextCursor` back to get the next page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * How a listing is ordered. `created` never reorders while a listing pages through (new
 * repositories come last), so a complete listing cannot miss one; `pushed` descending puts the
 * repositories pushed to since a given time first, so an incremental listing can stop early.
 */
export type RepositoryOrder = 'created' | 'name' | 'pushed' | 'updated';

export interface ListRepositoriesOptions {
  /** The organization (or user) whose repositories to list. */
  owner: string;
  cursor?: string;
  /** Page size, at most 100. */
  perPage?: number;
  /** Default `name`. */
  orderBy?: RepositoryOrder;
  /** Default `asc`. */
  direction?: 'asc' | 'desc';
}

export type ChangesetState = 'OPEN' | 'CLOSED' | 'MERGED';

/** A pull request as returned by operations that change one. */
export interface Changeset {
  repo: string;
  number: number;
  nodeId: string;
  url: string;
  state: ChangesetState;
  isDraft: boolean;
  title: string;
  body: string;
  headRefName: string;
  baseRefName: string;
  headRefOid: string;
}

/** Identifies a pull request. */
export interface ChangesetRef {
  repo: string;
  number: number;
}

export type ReviewDecision = 'APPROVED' | 'CHANGES_REQUESTED' | 'REVIEW_REQUIRED' | null;
export type ChecksState = 'SUCCESS' | 'FAILURE' | 'PENDING' | 'ERROR' | 'EXPECTED' | null;

/** The observed state of a pull request, as the syncer and the reconciler read it. */
export interface ChangesetObservation {
  repo: string;
  number: number;
  nodeId: string;
  url: string;
  title: string;
  state: ChangesetState;
  isDraft: boolean;
  reviewDecision: ReviewDecision;
  /** The head commit's checks rollup; null when no check reported. */
  checksState: ChecksState;
  headRefName: string;
  headRefOid: string;
  baseRefName: string;
  updatedAt: string;
  labels: string[];
}

export interface CreateChangesetInput {
  repo: string;
  /** The head branch's name, in `headRepository`. */
  head: string;
  /** The repository the head branch is in, when it is a fork of `repo` (default: `repo`). */
  headRepository?: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
}

export interface UpdateChangesetInput extends ChangesetRef {
  title?: string;
  body?: string;
  base?: string;
}

export interface MergeChangesetInput extends ChangesetRef {
  method?: 'merge' | 'squash' | 'rebase';
  /** Merge only if the head is still this commit. */
  expectedHeadSha?: string;
}

export interface EnsureForkInput {
  /** The repository to fork, `HOST/OWNER/NAME`. */
  repo: string;
  /** The user or organization the fork belongs to; the token's own user when absent. */
  namespace?: string;
}

export interface PushBranchInput {
  repo: string;
  /** A local git repository holding `commitSha`. */
  localRepoPath: string;
  commitSha: string;
  branch: string;
  /** Overwrite the branch even if the push is not a fast-forward. */
  force: boolean;
}

export interface PushPackInput {
  repo: string;
  branch: string;
  /** The commit the branch is set to; it is in `pack` or already on the host. */
  commitSha: string;
  /** A git pack file holding every object the host needs beyond what it has. */
  pack: Buffer;
  /** Where the branch is believed to be; null when it is believed not to exist. */
  expectedOldSha: string | null;
}

/**
 * `pushed`: the branch is at the commit. `refused`: the host did not take the pack or the update (e.g. it lacks an object the
 * pack builds on); pushing from a repository that has every object, `pushBranch`, may still work.
 */
export type PushPackResult = { status: 'pushed' } | { status: 'refused'; reason: string };

/** Webhook request headers, lower- or mixed-case names. */
export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** A verified webhook delivery. */
export interface WebhookDelivery {
  /** `X-GitHub-Delivery`: unique per delivery, for deduplication. */
  id: string;
  /** `X-GitHub-Event`, e.g. pull_request. */
  event: string;
  action?: string;
  /** Host-qualified repository the event is about, when it is about one. */
  repo?: string;
  payload: Record<string, unknown>;
}

/** What an observation says about a pull request (each field only when the source says it). */
export interface ObservedFields {
  url?: string;
  title?: string;
  state?: 'open' | 'closed' | 'merged';
  draft?: boolean;
  reviewDecision?: ReviewDecision;
  checks?: ChecksState;
  headRefOid?: string;
}

/**
 * Orders the reports of one thing (a pull request's state, a check, a reviewer's review): compared
 * element by element, the greater is the newer. Built from the payload's own ids and timestamps,
 * since a code host does not deliver webhooks in order.
 */
export type ReportOrder = readonly number[];

/** One check of a commit as a delivery reports it: a status context, a check run or a suite. */
export interface CheckReport {
  kind: 'status' | 'check_run' | 'check_suite';
  /** Which check of the commit: the status context, `<app>/<name>` of a run, the app of a suite. */
  name: string;
  /** The suite a run belongs to, or a suite's own id: a suite whose runs are known counts once. */
  suiteId?: number;
  state: 'SUCCESS' | 'FAILURE' | 'PENDING' | 'ERROR';
  order: ReportOrder;
}

/** One reviewer's latest decisive review (a dismissed one no longer decides anything). */
export interface ReviewReport {
  reviewer: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'DISMISSED';
  order: ReportOrder;
}

/** What a delivery says about pull requests, before knowing which of them are tracked. */
export interface WebhookFacts {
  /** e.g. `pull_request.closed`, `check_suite.completed`, `status`. */
  trigger: string;
  /** Host-qualified repository. */
  repository: string;
  /** Which pull requests: the ones numbered, or every tracked one whose head is `headSha`. */
  target: { numbers: number[] } | { headSha: string };
  /**
   * Fields of every observation (ChangesetObserved minus identity, source, delivery, trigger).
   * `checks` and `reviewDecision` are left to the recorder: they roll up every report it has.
   */
  fields: ObservedFields;
  /** The login of whoever acted, when the payload says. */
  sender?: string;
  /** When the payload says the pull request was last updated: orders its url/title/state/draft/head. */
  pullRequestOrder?: { updatedAt: string; replacedHead?: string };
  /** The check of the head commit this delivery reports. */
  check?: CheckReport;
  /** The review this delivery reports. */
  review?: ReviewReport;
}

/**
 * A code host. Every method fails only with `CodeHostError` (webhook verification with
 * `WebhookVerificationError`).
 */
export interface CodeHost {
  readonly id: string;
  /** `host[:port]`, the first part of this host's repository names. */
  readonly host: string;
  readonly capabilities: CodeHostCapabilities;

  /** One page of an organization's (or a user's own) repositories, with their head commits. */
  listRepositories(options: ListRepositoriesOptions): Promise<Page<RepositoryInfo>>;
  /** One repository; fails `terminal` with status 404 when it does not exist or is hidden. */
  getRepository(repo: string): Promise<RepositoryInfo>;
  /** Every file path at `ref` (a branch, tag or commit), for the repository index. */
  listFiles(repo: string, ref: string): Promise<string[]>;

  /**
   * The open pull request from `headBranch`, if there is one; the branch is in `headRepository`
   * when that is given (a fork of `repo`), else in `repo`.
   */
  findOpenChangeset(
    repo: string,
    headBranch: string,
    headRepository?: string,
  ): Promise<Changeset | undefined>;
  /** Opens a pull request, or returns the one already open from the same head branch. */
  createChangeset(input: CreateChangesetInput): Promise<Changeset>;
  updateChangeset(input: UpdateChangesetInput): Promise<Changeset>;
  closeChangeset(ref: ChangesetRef): Promise<Changeset>;
  reopenChangeset(ref: ChangesetRef): Promise<Changeset>;
  markReadyForReview(ref: ChangesetRef): Promise<Changeset>;
  convertToDraft(ref: ChangesetRef): Promise<Changeset>;
  /** Merges; resolves to the merge commit's sha. */
  mergeChangeset(input: MergeChangesetInput): Promise<{ sha: string }>;
  /**
   * Turns on the host's own auto-merge (`capabilities.autoMerge`): the host merges the pull
   * request with `method` once its rules (required checks, reviews) are met. Fails `terminal`
   * when the host refuses: the repository does not allow it, nothing is left to wait for, the
   * head is no longer `expectedHeadSha`.
   */
  enableAutoMerge(input: MergeChangesetInput): Promise<void>;
  comment(ref: ChangesetRef & { body: string }): Promise<{ id: number; url: string }>;
  /** Current state of many pull requests in batched queries; missing ones are left out. */
  loadChangesets(refs: readonly ChangesetRef[]): Promise<ChangesetObservation[]>;

  /**
   * The fork of `repo` in `namespace` (host-qualified), made when there is none yet and waited
   * for until the host serves it. Fails `terminal` on a host without `capabilities.forks`.
   */
  ensureFork(input: EnsureForkInput): Promise<string>;

  /** Pushes `commitSha` from a local repository to `branch`, with credentials never on disk. */
  pushBranch(input: PushBranchInput): Promise<void>;
  /**
   * Sets `branch` to `commitSha` by sending `pack` in one request, replacing whatever the branch
   * points at (force). When the branch is not at `expectedOldSha`, its real value is read once
   * and the update repeated.
   */
  pushPack(input: PushPackInput): Promise<PushPackResult>;

  /**
   * Throws `WebhookVerificationError` unless the signature matches the configured secret, over
   * the body's exact bytes as received.
   */
  verifyWebhook(headers: WebhookHeaders, rawBody: Uint8Array): Promise<void>;
  /** Verifies, then (only then) parses a delivery. */
  parseWebhook(headers: WebhookHeaders, rawBody: Uint8Array): Promise<WebhookDelivery>;
  /**
   * What a verified delivery of this host says about pull requests; null for events that say
   * nothing the reconciler records (each host's payloads are its own).
   */
  webhookFacts(delivery: WebhookDelivery): WebhookFacts | null;
}
