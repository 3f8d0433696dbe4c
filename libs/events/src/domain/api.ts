/*
 * spec-service's request/reply API over NATS (subjects from `apiSubject`), as the CLI uses it.
 * Every reply is JSON: `{ ok: true, ... }` or `{ ok: false, error }`.
 */

/** Largest request the API accepts (a spec and its file name). */
export const MAX_API_REQUEST_BYTES = 1024 * 1024;

export interface ApiError {
  /** invalid-spec: the spec has errors (diagnostics hold them as FILE:LINE:COL: message). */
  code: 'invalid-spec' | 'invalid-request' | 'not-found' | 'unavailable' | 'internal';
  message: string;
  diagnostics?: string[];
}
export type ApiReply<T> = ({ ok: true } & T) | { ok: false; error: ApiError };

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
export interface PreviewResult {
  campaign: string;
  rows: PreviewRow[];
  problems: { entry: string; message: string }[];
  warnings: string[];
}

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
  /** Converged as far as it can, but some execution or changeset failed terminally. */
  | 'needs-attention';

export interface ExecutionStatus {
  repository: string;
  path: string;
  state: 'queued' | 'running' | 'succeeded' | 'empty' | 'failed';
  message: string | null;
  stderrTail: string | null;
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

export interface CampaignStatus {
  campaign: string;
  applyId: string;
  specHash: string;
  appliedAt: string;
  actor: string;
  phase: CampaignPhase;
  counts: {
    workspaces: number;
    executed: number;
    failed: number;
    changesets: number;
    published: number;
    errored: number;
  };
  executions: ExecutionStatus[];
  changesets: ChangesetStatus[];
  problems: { entry: string; message: string }[];
}

export interface CampaignSummary {
  campaign: string;
  appliedAt: string;
  actor: string;
  phase: CampaignPhase;
  changesets: number;
  open: number;
  merged: number;
}
export interface ListResult {
  campaigns: CampaignSummary[];
}
