/*
 * spec-service's request/reply API over NATS, defined once for both ends: spec-service validates
 * every request with these schemas (its `@MessagePattern` handlers take them through
 * `ZodPayloadPipe`), the CLI validates every reply with them.
 *
 * Wire format: a request is one JSON object on `apiSubject(topology, verb)`; every reply is JSON,
 * `{ ok: true, ... }` or `{ ok: false, error }`. No reply grows with a campaign: `get` answers a
 * summary computed by the database; the rows (changesets, executions, campaigns) come in pages of
 * at most MAX_PAGE_ROWS rows and MAX_REPLY_BYTES bytes, each naming the cursor of the next;
 * `preview` streams its rows in chunks of the same bounds to the request's inbox, ending with an
 * empty message.
 *
 * Every request carries the caller's access token as the NATS header
 * `Authorization: Bearer cmp_…` (AUTHORIZATION_HEADER); spec-service verifies it on every request
 * and records the token's user as the actor. Requests name no actor: one sent is ignored.
 */
import { z } from 'zod';

/** The verbs on one namespace's campaigns: their request may name the `namespace` it acts in. */
const CAMPAIGN_VERBS = [
  'apply',
  'preview',
  'get',
  'changesets',
  'executions',
  'list',
  'close',
  'delete',
  'bulk',
] as const;

/** The request verbs; each is the subject `campaign.<verb>`. */
export const API_VERBS = [
  ...CAMPAIGN_VERBS,
  'bulk-results',
  'whoami',
  'users-create',
  'users-list',
  'tokens-create',
  'tokens-revoke',
  'orgs-create',
  'orgs-add-member',
] as const;
export type ApiVerb = (typeof API_VERBS)[number];

/** Verbs whose request may name the `namespace` it acts in (absent: the caller's default). */
export const NAMESPACED_VERBS: ReadonlySet<ApiVerb> = new Set<ApiVerb>(CAMPAIGN_VERBS);

/** Verbs answered by several messages ending with an empty one (see `preview`). */
export const STREAMED_VERBS: ReadonlySet<ApiVerb> = new Set<ApiVerb>(['preview']);

/** Largest request the API accepts (a spec and its file name). */
export const MAX_API_REQUEST_BYTES = 1024 * 1024;
/** Largest reply message, whatever the verb (NATS refuses messages over 1 MiB by default). */
export const MAX_REPLY_BYTES = 256 * 1024;
/** Most rows in one page or preview chunk; `limit` may ask for fewer. */
export const MAX_PAGE_ROWS = 500;
/** Longest name-like field (file name, actor, campaign, cursor). */
export const MAX_NAME_LENGTH = 1000;

/** The NATS message header that carries `Bearer <access token>` on every request. */
export const AUTHORIZATION_HEADER = 'Authorization';

/**
 * The request subject of a verb. The default subject prefix `ev` serves `campaign.<verb>`; a
 * test's own prefix `evX` serves `campaign.evX.<verb>`, so parallel tests never share subjects.
 */
export function apiSubject(topology: { readonly subjectPrefix: string }, verb: ApiVerb): string {
  const base = topology.subjectPrefix === 'ev' ? 'campaign' : `campaign.${topology.subjectPrefix}`;
  return `${base}.${verb}`;
}

// ---- errors and envelopes -----------------------------------------------------------------

export const API_ERROR_CODES = [
  /** The spec has errors (diagnostics hold them as FILE:LINE:COL: message). */
  'invalid-spec',
  'invalid-request',
  'not-found',
  'unavailable',
  'internal',
  /** No access token, or one that is unknown or revoked: nothing was done. */
  'unauthenticated',
  /** The caller may not do this (e.g. an admin verb without being a site admin). */
  'forbidden',
] as const;
export const apiErrorSchema = z.object({
  code: z.enum(API_ERROR_CODES),
  message: z.string(),
  diagnostics: z.array(z.string()).optional(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;
export type ApiReply<T> = ({ ok: true } & T) | { ok: false; error: ApiError };

/** One entry of a summary's or a preview's problem list. */
export const problemSchema = z.object({ entry: z.string(), message: z.string() });
export type Problem = z.infer<typeof problemSchema>;

// ---- request fields -------------------------------------------------------------------------

const name = (field: string) =>
  z
    .string({ error: `"${field}" must be a non-empty string` })
    .refine((value) => value.trim() !== '', { error: `"${field}" must be a non-empty string` })
    .refine((value) => value.length <= MAX_NAME_LENGTH, { error: `"${field}" is too long` });

/**
 * The namespace a request acts in (a user's or an organization's name, or `default`); absent:
 * the caller's own. A `campaign` may also name it itself, as `NAMESPACE/NAME`.
 */
const namespace = z
  .string({ error: '"namespace" must be a namespace name' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, {
    error:
      '"namespace" must be 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
  })
  .optional();

/** A spec's text may be empty (it then fails validation with a diagnostic, not a request error). */
const specText = z.string({ error: '"specText" must be a string' });

const limit = z
  .number({ error: `"limit" must be a whole number from 1 to ${MAX_PAGE_ROWS}` })
  .int({ error: `"limit" must be a whole number from 1 to ${MAX_PAGE_ROWS}` })
  .min(1, { error: `"limit" must be a whole number from 1 to ${MAX_PAGE_ROWS}` })
  .max(MAX_PAGE_ROWS, { error: `"limit" must be a whole number from 1 to ${MAX_PAGE_ROWS}` });

/** An opaque cursor: the `next` of a previous page (decoded and checked by the service). */
const after = z
  .string({ error: '"after" must be the "next" of a previous page' })
  .max(MAX_NAME_LENGTH * 4, { error: '"after" must be the "next" of a previous page' })
  .nullable();

const oneOf = <const T extends readonly [string, ...string[]]>(field: string, values: T) =>
  z.enum(values, {
    error: `"${field}" must be one of ${values.map((v) => `"${v}"`).join(', ')}`,
  });

/** What a paged request sends: where to start (absent or null: the first page) and how many. */
export const pageRequestSchema = z.object({
  after: after.optional(),
  limit: limit.optional(),
});
export type PageRequest = z.infer<typeof pageRequestSchema>;
/** A page stops at `limit` rows or before MAX_REPLY_BYTES; `next` is null on the last. */
export const pageSchema = z.object({ next: z.string().nullable() });
export type Page = z.infer<typeof pageSchema>;

// ---- apply ------------------------------------------------------------------------------

export const applyRequestSchema = z.object({
  namespace,
  fileName: name('fileName'),
  specText,
});
export type ApplyRequest = z.infer<typeof applyRequestSchema>;

export const applyResultSchema = z.object({
  campaign: z.string(),
  applyId: z.string(),
  specHash: z.string(),
  /** The spec was identical to the campaign's current one: nothing was recorded. */
  unchanged: z.boolean(),
  /** Warnings from validation, as FILE:LINE:COL: message. */
  warnings: z.array(z.string()),
});
export type ApplyResult = z.infer<typeof applyResultSchema>;

// ---- close and delete -------------------------------------------------------------------

/**
 * Closes a campaign: no spec can be applied to it any more. With `closeChangesets`, its open
 * changesets are closed (and archived), and its imported ones detached; without, they are left
 * as they are.
 */
export const closeRequestSchema = z.object({
  namespace,
  campaign: name('campaign'),
  closeChangesets: z.boolean().default(false),
});
export type CloseRequest = z.infer<typeof closeRequestSchema>;
export const closeResultSchema = z.object({
  campaign: z.string(),
  /** False when it was closed already: nothing was recorded. */
  closed: z.boolean(),
  /** The changesets it asked the reconciler to close or detach (0 without closeChangesets). */
  closingChangesets: z.number().int().nonnegative(),
});
export type CloseResult = z.infer<typeof closeResultSchema>;

/**
 * Deletes a closed campaign: it leaves `list` and `status`, its name can be applied again, and
 * the log keeps its history (`campaign audit NAME`). Its pull requests are left as they are.
 */
export const deleteRequestSchema = z.object({ namespace, campaign: name('campaign') });
export type DeleteRequest = z.infer<typeof deleteRequestSchema>;
export const deleteResultSchema = z.object({ campaign: z.string() });
export type DeleteResult = z.infer<typeof deleteResultSchema>;

// ---- preview ----------------------------------------------------------------------------

export const previewRequestSchema = z.object({
  namespace,
  fileName: name('fileName'),
  specText,
  /** Each row's diff where its steps have run and stay the same (bounded: see PreviewRow.diff). */
  diff: z.boolean().optional(),
});
/** The most of one changeset's diff a preview carries. */
export const MAX_PREVIEW_DIFF_BYTES = 32 * 1024;
/** The most of all changesets' diffs one preview carries; the rows after get none. */
export const MAX_PREVIEW_DIFFS_BYTES = 2 * 1024 * 1024;
export type PreviewRequest = z.infer<typeof previewRequestSchema>;

export const PREVIEW_ACTIONS = [
  'create',
  'update',
  'push',
  'close',
  'reopen',
  'unchanged',
  /** The repository's steps ran and changed nothing: it has no changeset, and gets none. */
  'no-changes',
  /** importChangesets lists a pull request the campaign does not track yet. */
  'import',
  /** An imported pull request no longer listed: left as it is, no longer tracked. */
  'detach',
  /** What the spec asks cannot be done to the changeset; apply records it as a failure. */
  'refused',
] as const;
export type PreviewAction = (typeof PREVIEW_ACTIONS)[number];
export const previewRowSchema = z.object({
  repository: z.string(),
  /** The head branch of an existing changeset; null for a repository not yet executed. */
  headBranch: z.string().nullable(),
  action: z.enum(PREVIEW_ACTIONS),
  reasons: z.array(z.string()),
  /**
   * Asked for with `diff`: the changeset's diff, when its steps have run and are unchanged (what
   * it carries after the apply). Cut at a line to MAX_PREVIEW_DIFF_BYTES, and left empty once
   * the preview's diffs reach MAX_PREVIEW_DIFFS_BYTES; `truncated` says so.
   */
  diff: z.object({ text: z.string(), truncated: z.boolean() }).optional(),
});
export type PreviewRow = z.infer<typeof previewRowSchema>;

/** The first message of a preview's reply: what comes before the rows. */
export const previewHeadSchema = z.object({
  campaign: z.string(),
  /** How many rows the chunks after this message carry in all. */
  rowCount: z.number().int().nonnegative(),
  problems: z.array(problemSchema),
  warnings: z.array(z.string()),
});
export type PreviewHead = z.infer<typeof previewHeadSchema>;
/** Each further message of a preview's reply: the next rows, in order. */
export const previewChunkSchema = z.object({ rows: z.array(previewRowSchema) });
export type PreviewChunk = z.infer<typeof previewChunkSchema>;
/**
 * One message of `preview`'s reply: `{ ok: true, head }`, then `{ ok: true, rows }` chunks (each
 * within MAX_PAGE_ROWS and MAX_REPLY_BYTES), then an empty message (the sentinel of nats.js's
 * `requestMany`). An error is one `{ ok: false, error }` message, then the empty one.
 */
export const previewPartSchema = z.union([
  z.object({ head: previewHeadSchema }),
  previewChunkSchema,
]);
export type PreviewPart = z.infer<typeof previewPartSchema>;
/** A whole preview, as the CLI assembles it from the messages (and prints with --json). */
export interface PreviewResult {
  campaign: string;
  rows: PreviewRow[];
  problems: Problem[];
  warnings: string[];
}

// ---- get --------------------------------------------------------------------------------

export const getRequestSchema = z.object({ namespace, campaign: name('campaign') });
export type GetRequest = z.infer<typeof getRequestSchema>;

export const CAMPAIGN_PHASES = [
  /** Resolving `on:` or running steps. */
  'executing',
  /** Desired state known; the reconciler is still converging. */
  'reconciling',
  /** Every changeset matches the desired state and nothing failed. */
  'complete',
  /** Closed (`campaign close`): no spec can be applied; its changesets converge on what it left. */
  'closed',
  /**
   * Converged as far as it can, but some execution or changeset failed terminally; or a stage
   * cannot go on (resolution failed, a consumer gave up on one of its events).
   */
  'needs-attention',
] as const;
export type CampaignPhase = (typeof CAMPAIGN_PHASES)[number];

export const CHANGESET_STATES = [
  /** Kept local (`published: false`). */
  'unpublished',
  /** To be published. */
  'pending',
  /**
   * To be published when its slot comes (rollout windows, the code host's content-creation
   * limits, the campaign's publication rate): `scheduledFor` says when.
   */
  'scheduled',
  'open',
  'draft',
  'closed',
  'merged',
  /** No longer wanted and not open. */
  'removed',
  /**
   * No longer wanted, and closed on the code host (by the campaign when its repository left the
   * spec, or by someone): kept in the campaign's history, not counted among its changesets.
   */
  'archived',
  /** Imported, then no longer listed in importChangesets: no longer tracked, left as it was. */
  'detached',
] as const;
export type ChangesetState = (typeof CHANGESET_STATES)[number];
/** States of changesets no longer part of the campaign: counted apart from its changesets. */
export const UNCOUNTED_CHANGESET_STATES: readonly ChangesetState[] = [
  'removed',
  'archived',
  'detached',
];
/** Whether a changeset in `state` counts among the campaign's changesets. */
export function countedChangesetState(state: ChangesetState): boolean {
  return !UNCOUNTED_CHANGESET_STATES.includes(state);
}

const count = z.number().int().nonnegative();
/** A campaign's numbers, counted by the database. */
export const campaignCountsSchema = z.object({
  /** Executions of the current application. */
  workspaces: count,
  /** Failed, empty, or succeeded and rendered into the desired state. */
  executed: count,
  failed: count,
  /** Executions of the current application whose steps ran and changed nothing. */
  noChanges: count,
  /** Changesets in a counted state (not removed, archived or detached): the sum of theirs in `states`. */
  changesets: count,
  /** Counted changesets with a pull request. */
  published: count,
  /** Changesets whose last reconcile failed. */
  errored: count,
  /** Open on the code host, drafts included. */
  open: count,
  merged: count,
  closed: count,
  /** Events of this application that a consumer gave up on (`ConsumerDeadLettered`). */
  deadLettered: count,
  /**
   * Changesets by state, every state named: the counted ones add up to `changesets`; removed,
   * archived and detached ones are counted apart.
   */
  states: z.object(
    Object.fromEntries(CHANGESET_STATES.map((s) => [s, count])) as Record<
      ChangesetState,
      typeof count
    >,
  ),
});
export type CampaignCounts = z.infer<typeof campaignCountsSchema>;

/** `get`'s reply: a campaign's summary, the same size for ten changesets or 100,000. */
export const campaignStatusSchema = z.object({
  campaign: z.string(),
  applyId: z.string(),
  specHash: z.string(),
  appliedAt: z.string(),
  actor: z.string(),
  phase: z.enum(CAMPAIGN_PHASES),
  counts: campaignCountsSchema,
  /** Resolution problems (at most 101) and what consumers gave up on (at most 11). */
  problems: z.array(problemSchema),
  /** When and by whom it was closed (`campaign close`); absent while open. */
  closed: z.object({ at: z.string(), by: z.string() }).optional(),
});
export type CampaignStatus = z.infer<typeof campaignStatusSchema>;

// ---- changesets and executions (pages) ----------------------------------------------------

/** errored: only changesets whose last reconcile failed. */
export const CHANGESET_FILTERS = ['all', 'errored'] as const;
export type ChangesetFilter = (typeof CHANGESET_FILTERS)[number];

/** The checks rollup a match asks for: passed (success), failed (failure, error), pending. */
export const CHECKS_MATCHES = ['passed', 'failed', 'pending'] as const;
/** The review decision a match asks for: pending is review required, or no decision yet. */
export const REVIEW_MATCHES = ['approved', 'changes-requested', 'pending'] as const;
/**
 * Which changesets of a campaign a listing or a bulk operation is about; every field given must
 * hold. `repository` is a glob over the host-qualified name: `*` any run of characters but `/`,
 * `**` any run at all, `?` one character but `/`.
 */
export const changesetMatchSchema = z.strictObject(
  {
    state: oneOf('state', CHANGESET_STATES).optional(),
    checks: oneOf('checks', CHECKS_MATCHES).optional(),
    review: oneOf('review', REVIEW_MATCHES).optional(),
    repository: z
      .string({ error: '"repository" must be a glob, e.g. github.com/acme/*' })
      .min(1, { error: '"repository" must be a glob, e.g. github.com/acme/*' })
      .max(MAX_NAME_LENGTH, { error: '"repository" is too long' })
      .optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `"match" knows state, checks, review and repository, not ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : '"match" must be an object',
  },
);
export type ChangesetMatch = z.infer<typeof changesetMatchSchema>;

/** The campaign's changesets ordered by repository, then head branch. */
export const changesetsRequestSchema = pageRequestSchema.extend({
  namespace,
  campaign: name('campaign'),
  filter: oneOf('filter', CHANGESET_FILTERS).optional(),
  /** Only the changesets that match (the ones `bulk` with the same match acts on). */
  match: changesetMatchSchema.optional(),
  /** Count each changeset's added and deleted lines (reads its diff: `status -o wide`). */
  diffstat: z.boolean().optional(),
});
export type ChangesetsRequest = z.infer<typeof changesetsRequestSchema>;

export const changesetStatusSchema = z.object({
  repository: z.string(),
  headBranch: z.string(),
  /** The workspace's path in the repository, when it is not the root. */
  path: z.string().optional(),
  state: z.enum(CHANGESET_STATES),
  draft: z.boolean(),
  checks: z.string().nullable(),
  review: z.string().nullable(),
  url: z.string().nullable(),
  number: z.number().int().nullable(),
  lastError: z.string().nullable(),
  /** lastError is terminal: the reconciler waits for a new spec. */
  errorTerminal: z.boolean(),
  /** The code host matches the latest desired state. */
  converged: z.boolean(),
  updatedAt: z.string(),
  /** Tracked from importChangesets (its headBranch is `#NUMBER`); absent for the campaign's own. */
  imported: z.literal(true).optional(),
  /** State `scheduled`: when it is expected to be published (ISO 8601); null when no window opens within a week. */
  scheduledFor: z.string().nullable().optional(),
  /** The title and base branch its desired state renders; absent for imported changesets. */
  title: z.string().optional(),
  baseBranch: z.string().optional(),
  /**
   * What its desired state's diff changes: files, and (when the request asks for `diffstat`) the
   * lines added and deleted. Absent for imported changesets and rows projected before it was kept.
   */
  diffstat: z
    .object({ files: z.number().int(), added: z.number().int(), deleted: z.number().int() })
    .partial({ added: true, deleted: true })
    .optional(),
});
export type ChangesetStatus = z.infer<typeof changesetStatusSchema>;
export const changesetsPageSchema = pageSchema.extend({
  changesets: z.array(changesetStatusSchema),
});
export type ChangesetsPage = z.infer<typeof changesetsPageSchema>;

/** failed: only executions that failed (their steps, or rendering their changesets). */
export const EXECUTION_FILTERS = ['all', 'failed'] as const;
export type ExecutionFilter = (typeof EXECUTION_FILTERS)[number];
/** The executions of one application ordered by repository, path, then branch. */
export const executionsRequestSchema = pageRequestSchema.extend({
  namespace,
  campaign: name('campaign'),
  /** Default: the current application. Pass the summary's to page one application throughout. */
  applyId: z.uuid({ error: '"applyId" must be a UUID' }).optional(),
  filter: oneOf('filter', EXECUTION_FILTERS).optional(),
});
export type ExecutionsRequest = z.infer<typeof executionsRequestSchema>;

export const EXECUTION_STATES = ['queued', 'running', 'succeeded', 'empty', 'failed'] as const;
export const executionStatusSchema = z.object({
  repository: z.string(),
  /** The branch it ran on; absent for executions recorded before it was kept. */
  branch: z.string().optional(),
  path: z.string(),
  state: z.enum(EXECUTION_STATES),
  message: z.string().nullable(),
  stderrTail: z.string().nullable(),
});
export type ExecutionStatus = z.infer<typeof executionStatusSchema>;
export const executionsPageSchema = pageSchema.extend({
  applyId: z.string(),
  executions: z.array(executionStatusSchema),
});
export type ExecutionsPage = z.infer<typeof executionsPageSchema>;

/** A summary with every execution and changeset: what `campaign status --json` prints. */
export interface FullCampaignStatus extends CampaignStatus {
  executions: ExecutionStatus[];
  changesets: ChangesetStatus[];
}

// ---- list -------------------------------------------------------------------------------

/** The campaigns of one namespace (absent: the caller's own), ordered by name. */
export const listRequestSchema = pageRequestSchema.extend({
  namespace,
  /** Every namespace the caller may read (all, for a site admin) instead of one; keys name theirs. */
  allNamespaces: z.boolean().optional(),
});
export type ListRequest = z.infer<typeof listRequestSchema>;
export const campaignSummarySchema = z.object({
  campaign: z.string(),
  appliedAt: z.string(),
  actor: z.string(),
  phase: z.enum(CAMPAIGN_PHASES),
  changesets: count,
  open: count,
  merged: count,
});
export type CampaignSummary = z.infer<typeof campaignSummarySchema>;
export const listResultSchema = pageSchema.extend({ campaigns: z.array(campaignSummarySchema) });
export type ListResult = z.infer<typeof listResultSchema>;

// ---- bulk operations ----------------------------------------------------------------------

export const BULK_OPERATION_KINDS = ['comment', 'merge', 'close', 'publish', 'retry'] as const;
export type BulkOperationKind = (typeof BULK_OPERATION_KINDS)[number];
export const MERGE_METHODS = ['merge', 'squash', 'rebase'] as const;

/**
 * One operation on every changeset of a campaign that matches `match` now (what `changesets`
 * with the same match lists). `operationId` makes it idempotent: the same id again records
 * nothing and answers the first request's operation. The reconciler carries it out, paced like
 * publishing; `bulk-results` follows it.
 */
export const bulkRequestSchema = z
  .object({
    namespace,
    campaign: name('campaign'),
    operationId: z.uuid({ error: '"operationId" must be a UUID' }),
    operation: oneOf('operation', BULK_OPERATION_KINDS),
    /** comment: the comment's text (required). */
    message: z
      .string({ error: '"message" must be a string' })
      .max(65536, { error: '"message" is longer than 65536 characters' })
      .optional(),
    /** merge: how (default: merge). */
    method: oneOf('method', MERGE_METHODS).optional(),
    match: changesetMatchSchema.default({}),
  })
  .superRefine((r, ctx) => {
    if (r.operation === 'comment' && (r.message === undefined || r.message.trim() === ''))
      ctx.addIssue({
        code: 'custom',
        path: ['message'],
        message: '"message" is required to comment',
      });
    if (r.operation !== 'comment' && r.message !== undefined)
      ctx.addIssue({ code: 'custom', path: ['message'], message: '"message" is only for comment' });
    if (r.operation !== 'merge' && r.method !== undefined)
      ctx.addIssue({ code: 'custom', path: ['method'], message: '"method" is only for merge' });
  });
export type BulkRequest = z.infer<typeof bulkRequestSchema>;
export const bulkResultSchema = z.object({
  operationId: z.string(),
  campaign: z.string(),
  operation: z.enum(BULK_OPERATION_KINDS),
  /** The changesets it acts on: those that matched when it was first requested. */
  changesets: count,
  /** This id was requested before: nothing new was recorded. */
  alreadyRequested: z.boolean(),
});
export type BulkResult = z.infer<typeof bulkResultSchema>;

/** A bulk operation's progress and its per-changeset results, in the order they came. */
export const bulkResultsRequestSchema = pageRequestSchema.extend({
  operationId: z.uuid({ error: '"operationId" must be a UUID' }),
});
export type BulkResultsRequest = z.infer<typeof bulkResultsRequestSchema>;
export const BULK_CHANGESET_RESULTS = ['done', 'skipped', 'failed'] as const;
export const bulkChangesetResultSchema = z.object({
  repository: z.string(),
  headBranch: z.string(),
  number: z.number().int().nullable(),
  result: z.enum(BULK_CHANGESET_RESULTS),
  message: z.string(),
});
export type BulkChangesetResult = z.infer<typeof bulkChangesetResultSchema>;
export const bulkResultsPageSchema = pageSchema.extend({
  operationId: z.string(),
  campaign: z.string(),
  operation: z.enum(BULK_OPERATION_KINDS),
  actor: z.string(),
  /** Changesets it acts on, and how many of them have a result of each kind. */
  changesets: count,
  done: count,
  skipped: count,
  failed: count,
  results: z.array(bulkChangesetResultSchema),
});
export type BulkResultsPage = z.infer<typeof bulkResultsPageSchema>;

// ---- identity -----------------------------------------------------------------------------

/** Who the caller's token says they are. */
export const whoamiRequestSchema = z.object({});
export type WhoamiRequest = z.infer<typeof whoamiRequestSchema>;
export const whoamiResultSchema = z.object({
  user: z.string(),
  siteAdmin: z.boolean(),
  /** The namespaces the user may act in: their own and their organizations'. */
  namespaces: z.array(z.string()),
});
export type WhoamiResult = z.infer<typeof whoamiResultSchema>;

/** Site admins only: a new user (who then needs a token: `tokens-create`). */
export const usersCreateRequestSchema = z.object({
  name: name('name'),
  siteAdmin: z.boolean({ error: '"siteAdmin" must be true or false' }).default(false),
});
export type UsersCreateRequest = z.input<typeof usersCreateRequestSchema>;
export const userSchema = z.object({
  name: z.string(),
  siteAdmin: z.boolean(),
  createdAt: z.string(),
  /** Tokens issued and not revoked. */
  activeTokens: z.number().int().nonnegative(),
});
export type User = z.infer<typeof userSchema>;
export const usersCreateResultSchema = z.object({ user: userSchema });
export type UsersCreateResult = z.infer<typeof usersCreateResultSchema>;

/** Site admins only: every user, by name (a site has few enough for one reply). */
export const usersListRequestSchema = z.object({});
export type UsersListRequest = z.infer<typeof usersListRequestSchema>;
export const usersListResultSchema = z.object({ users: z.array(userSchema) });
export type UsersListResult = z.infer<typeof usersListResultSchema>;

/** Site admins only: a new access token for a user; the reply is the only copy of the token. */
export const tokensCreateRequestSchema = z.object({ user: name('user') });
export type TokensCreateRequest = z.infer<typeof tokensCreateRequestSchema>;
export const tokensCreateResultSchema = z.object({
  id: z.string(),
  user: z.string(),
  token: z.string(),
});
export type TokensCreateResult = z.infer<typeof tokensCreateResultSchema>;

/** Site admins only: revokes one token (`id`) or every token of a user (`user`). */
export const tokensRevokeRequestSchema = z
  .object({
    id: z
      .string()
      .regex(/^[0-9]{1,18}$/, { error: '"id" must be a token id (digits)' })
      .optional(),
    user: name('user').optional(),
  })
  .refine((r) => (r.id === undefined) !== (r.user === undefined), {
    error: 'give either "id" or "user"',
  });
export type TokensRevokeRequest = z.infer<typeof tokensRevokeRequestSchema>;
export const tokensRevokeResultSchema = z.object({ revoked: z.number().int().nonnegative() });
export type TokensRevokeResult = z.infer<typeof tokensRevokeResultSchema>;

// ---- the verbs, together ------------------------------------------------------------------

/** Site admins only: a new organization (a namespace with members), private unless public. */
export const orgsCreateRequestSchema = z.object({
  name: name('name'),
  visibility: oneOf('visibility', ['private', 'public'] as const).default('private'),
});
export type OrgsCreateRequest = z.input<typeof orgsCreateRequestSchema>;
export const orgsCreateResultSchema = z.object({
  org: z.object({ name: z.string(), visibility: z.enum(['private', 'public']) }),
});
export type OrgsCreateResult = z.infer<typeof orgsCreateResultSchema>;

/** Site admins only: a user becomes a member of an organization (again: nothing changes). */
export const orgsAddMemberRequestSchema = z.object({ org: name('org'), user: name('user') });
export type OrgsAddMemberRequest = z.infer<typeof orgsAddMemberRequestSchema>;
export const orgsAddMemberResultSchema = z.object({
  org: z.string(),
  user: z.string(),
  added: z.boolean(),
});
export type OrgsAddMemberResult = z.infer<typeof orgsAddMemberResultSchema>;

/** Each verb's request schema and the schema of each message of its reply. */
export const API_CONTRACTS = {
  apply: { request: applyRequestSchema, reply: applyResultSchema },
  preview: { request: previewRequestSchema, reply: previewPartSchema },
  get: { request: getRequestSchema, reply: campaignStatusSchema },
  changesets: { request: changesetsRequestSchema, reply: changesetsPageSchema },
  executions: { request: executionsRequestSchema, reply: executionsPageSchema },
  list: { request: listRequestSchema, reply: listResultSchema },
  close: { request: closeRequestSchema, reply: closeResultSchema },
  delete: { request: deleteRequestSchema, reply: deleteResultSchema },
  bulk: { request: bulkRequestSchema, reply: bulkResultSchema },
  'bulk-results': { request: bulkResultsRequestSchema, reply: bulkResultsPageSchema },
  whoami: { request: whoamiRequestSchema, reply: whoamiResultSchema },
  'users-create': { request: usersCreateRequestSchema, reply: usersCreateResultSchema },
  'users-list': { request: usersListRequestSchema, reply: usersListResultSchema },
  'tokens-create': { request: tokensCreateRequestSchema, reply: tokensCreateResultSchema },
  'tokens-revoke': { request: tokensRevokeRequestSchema, reply: tokensRevokeResultSchema },
  'orgs-create': { request: orgsCreateRequestSchema, reply: orgsCreateResultSchema },
  'orgs-add-member': { request: orgsAddMemberRequestSchema, reply: orgsAddMemberResultSchema },
} as const satisfies Record<ApiVerb, { request: z.ZodType; reply: z.ZodType }>;

export type ApiRequestOf<V extends ApiVerb> = z.input<(typeof API_CONTRACTS)[V]['request']>;
export type ApiReplyOf<V extends ApiVerb> = z.infer<(typeof API_CONTRACTS)[V]['reply']>;

/**
 * The first problem zod found, as one line naming the field (the schemas above carry the
 * messages); for requests that are not what the verb expects.
 */
export function describeInvalid(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the request is invalid';
  if (issue.path.length === 0) return issue.message;
  const path = issue.path.map(String).join('.');
  return issue.message.includes(`"${path}"`) ? issue.message : `"${path}": ${issue.message}`;
}

/**
 * What is wrong with one message of a verb's reply, or null when it is `{ ok: false, error }`
 * or `{ ok: true, ... }` with the fields the verb promises.
 */
export function replyProblem(verb: ApiVerb, reply: unknown): string | null {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply))
    return 'it is not a JSON object';
  const { ok, ...rest } = reply as Record<string, unknown>;
  if (ok === false) {
    const error = apiErrorSchema.safeParse(rest['error']);
    return error.success ? null : `"error": ${describeInvalid(error.error)}`;
  }
  if (ok !== true) return '"ok" must be true or false';
  const body = API_CONTRACTS[verb].reply.safeParse(rest);
  return body.success ? null : describeInvalid(body.error);
}
