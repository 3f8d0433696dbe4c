/*
 * spec-service's request/reply API over NATS (subjects from `apiSubject`), as the CLI uses it.
 * Every reply is JSON: `{ ok: true, ... }` or `{ ok: false, error }`.
 *
 * No reply grows with a campaign: `get` answers a summary computed by the database; the rows
 * (changesets, executions, campaigns) come in pages of at most MAX_PAGE_ROWS rows and
 * MAX_REPLY_BYTES bytes, each naming the cursor of the next; `preview` streams its rows in chunks
 * of the same bounds to the request's inbox, ending with an empty message.
 */

/** The request subjects, `campaign.<verb>`. */
export const API_VERBS = ['apply', 'preview', 'get', 'changesets', 'executions', 'list'] as const;
export type ApiVerb = (typeof API_VERBS)[number];

/** Largest request the API accepts (a spec and its file name). */
export const MAX_API_REQUEST_BYTES = 1024 * 1024;
/** Largest reply message, whatever the verb (NATS refuses messages over 1 MiB by default). */
export const MAX_REPLY_BYTES = 256 * 1024;
/** Most rows in one page or preview chunk; `limit` may ask for fewer. */
export const MAX_PAGE_ROWS = 500;

export interface ApiError {
  /** invalid-spec: the spec has errors (diagnostics hold them as FILE:LINE:COL: message). */
  code: 'invalid-spec' | 'invalid-request' | 'not-found' | 'unavailable' | 'internal';
  message: string;
  diagnostics?: string[];
}
export type ApiReply<T> = ({ ok: true } & T) | { ok: false; error: ApiError };

/** One entry of a summary's or a preview's problem list. */
export interface Problem {
  entry: string;
  message: string;
}

/** What a paged request sends: where to start and how many rows at most. */
export interface PageRequest {
  /** The `next` of the previous page; absent or null for the first page. Opaque. */
  after?: string | null;
  /** At most this many rows (1..MAX_PAGE_ROWS, default MAX_PAGE_ROWS). */
  limit?: number;
}
/** A page stops at `limit` rows or before MAX_REPLY_BYTES, whichever comes first. */
export interface Page {
  /** The cursor of the next page; null on the last. */
  next: string | null;
}

// ---- apply ------------------------------------------------------------------------------

export interface ApplyRequest {
  fileName: string;
  specText: string;
  /** Who applies (the CLI sends $CAMPAIGN_ACTOR or the OS user name). */
  actor: string;
}
export interface ApplyResult {
  campaign: string;
  applyId: string;
  specHash: string;
  /** The spec was identical to the campaign's current one: nothing was recorded. */
  unchanged: boolean;
  /** Warnings from validation, as FILE:LINE:COL: message. */
  warnings: string[];
}

// ---- preview ----------------------------------------------------------------------------

export interface PreviewRequest {
  fileName: string;
  specText: string;
}
export type PreviewAction = 'create' | 'update' | 'push' | 'close' | 'reopen' | 'unchanged';
export interface PreviewRow {
  repository: string;
  /** The head branch of an existing changeset; null for a repository not yet executed. */
  headBranch: string | null;
  action: PreviewAction;
  reasons: string[];
}
/** The first message of a preview's reply: what comes before the rows. */
export interface PreviewHead {
  campaign: string;
  /** How many rows the chunks after this message carry in all. */
  rowCount: number;
  problems: Problem[];
  warnings: string[];
}
/** Each further message of a preview's reply: the next rows, in order. */
export interface PreviewChunk {
  rows: PreviewRow[];
}
/**
 * One message of `preview`'s reply. It replies with several messages to the request's inbox:
 * `{ ok: true, head }`, then `{ ok: true, rows }` chunks (each within MAX_PAGE_ROWS and
 * MAX_REPLY_BYTES), then an empty message (the sentinel of nats.js's `requestMany`). An error is
 * one `{ ok: false, error }` message, then the empty one.
 */
export type PreviewPart = { head: PreviewHead } | PreviewChunk;
/** A whole preview, as the CLI assembles it from the messages (and prints with --json). */
export interface PreviewResult {
  campaign: string;
  rows: PreviewRow[];
  problems: Problem[];
  warnings: string[];
}

// ---- get --------------------------------------------------------------------------------

export interface GetRequest {
  campaign: string;
}

export type CampaignPhase =
  /** Resolving `on:` or running steps. */
  | 'executing'
  /** Desired state known; the reconciler is still converging. */
  | 'reconciling'
  /** Every changeset matches the desired state and nothing failed. */
  | 'complete'
  /**
   * Converged as far as it can, but some execution or changeset failed terminally; or a stage
   * cannot go on (resolution failed, a consumer gave up on one of its events).
   */
  | 'needs-attention';

/** A campaign's numbers, counted by the database. */
export interface CampaignCounts {
  /** Executions of the current application. */
  workspaces: number;
  /** Failed, empty, or succeeded and rendered into the desired state. */
  executed: number;
  failed: number;
  /** Changesets not removed. */
  changesets: number;
  /** Changesets with a pull request. */
  published: number;
  /** Changesets whose last reconcile failed. */
  errored: number;
  /** Open on the code host, drafts included. */
  open: number;
  merged: number;
  closed: number;
  /** Events of this application that a consumer gave up on (`ConsumerDeadLettered`). */
  deadLettered: number;
}

/** `get`'s reply: a campaign's summary, the same size for ten changesets or 100,000. */
export interface CampaignStatus {
  campaign: string;
  applyId: string;
  specHash: string;
  appliedAt: string;
  actor: string;
  phase: CampaignPhase;
  counts: CampaignCounts;
  /** Resolution problems (at most 101) and what consumers gave up on (at most 11). */
  problems: Problem[];
}

// ---- changesets and executions (pages) ----------------------------------------------------

/** errored: only changesets whose last reconcile failed. */
export type ChangesetFilter = 'all' | 'errored';
/** The campaign's changesets ordered by repository, then head branch. */
export interface ChangesetsRequest extends PageRequest {
  campaign: string;
  filter?: ChangesetFilter;
}
export interface ChangesetStatus {
  repository: string;
  headBranch: string;
  /** unpublished: kept local (`published: false`); pending: to be published; removed: no longer wanted and not open. */
  state: 'unpublished' | 'pending' | 'open' | 'draft' | 'closed' | 'merged' | 'removed';
  draft: boolean;
  checks: string | null;
  review: string | null;
  url: string | null;
  number: number | null;
  lastError: string | null;
  /** lastError is terminal: the reconciler waits for a new spec. */
  errorTerminal: boolean;
  /** The code host matches the latest desired state. */
  converged: boolean;
  updatedAt: string;
}
export interface ChangesetsPage extends Page {
  changesets: ChangesetStatus[];
}

/** failed: only executions that failed (their steps, or rendering their changesets). */
export type ExecutionFilter = 'all' | 'failed';
/** The executions of one application ordered by repository, then path. */
export interface ExecutionsRequest extends PageRequest {
  campaign: string;
  /** Default: the current application. Pass the summary's to page one application throughout. */
  applyId?: string;
  filter?: ExecutionFilter;
}
export interface ExecutionStatus {
  repository: string;
  path: string;
  state: 'queued' | 'running' | 'succeeded' | 'empty' | 'failed';
  message: string | null;
  stderrTail: string | null;
}
export interface ExecutionsPage extends Page {
  applyId: string;
  executions: ExecutionStatus[];
}

/** A summary with every execution and changeset: what `campaign status --json` prints. */
export interface FullCampaignStatus extends CampaignStatus {
  executions: ExecutionStatus[];
  changesets: ChangesetStatus[];
}

// ---- list -------------------------------------------------------------------------------

/** Campaigns ordered by name. */
export type ListRequest = PageRequest;
export interface CampaignSummary {
  campaign: string;
  appliedAt: string;
  actor: string;
  phase: CampaignPhase;
  changesets: number;
  open: number;
  merged: number;
}
export interface ListResult extends Page {
  campaigns: CampaignSummary[];
}
