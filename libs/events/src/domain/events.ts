import { z } from 'zod';
import { defineEvent, EventCatalogue } from '../catalogue/event-catalogue.js';

/*
 * The Campaigns domain events (DESIGN.md). Correlation: every event caused by one
 * `campaign apply` carries that application's applyId as metadata.correlation_id, and the id of
 * the event that caused it as causation_id; metadata.actor stays the person who applied.
 */

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex');
const gitObjectId = z.string().regex(/^[0-9a-f]{40}$/, 'a git object id (40 lowercase hex digits)');
const id32 = z.string().regex(/^[0-9a-f]{32}$/, '32 lowercase hex digits');
const repository = z.string().min(3).max(300);
const campaign = z.string().min(1).max(200);
const applyId = z.string().uuid();
const blobRef = z.strictObject({ sha256, size: z.number().int().nonnegative() });
const changedFiles = z.strictObject({
  modified: z.array(z.string()),
  added: z.array(z.string()),
  deleted: z.array(z.string()),
  renamed: z.array(z.string()),
});
const workspace = z.strictObject({
  repository,
  /** The base branch. */
  branch: z.string().min(1),
  baseRevision: z.string().regex(/^[0-9a-f]{40}$/),
  /** Directory inside the repository, '' for the root. */
  path: z.string(),
  /** Files where the `on` queries matched (at most 100 kept). */
  searchResultPaths: z.array(z.string()).max(100),
});
export type WorkspaceData = z.infer<typeof workspace>;
/**
 * The git tree a workspace has after its steps, and a pack (in the blob table) of the objects it
 * adds to the base revision: a commit of it can be pushed without fetching the repository again.
 */
const gitTree = z.strictObject({ sha: gitObjectId, objects: blobRef });
export type GitTreeData = z.infer<typeof gitTree>;
/** At most this many resolution problems are recorded; the rest are counted. */
export const MAX_RECORDED_PROBLEMS = 100;
const resolutionProblem = z.strictObject({ entry: z.string(), message: z.string() });
export type BlobRefData = z.infer<typeof blobRef>;
export type ChangedFilesData = z.infer<typeof changedFiles>;

// ---- campaign-<name> ----------------------------------------------------------------------

/** Someone applied a spec whose text differs from the campaign's current one. */
export const SpecApplied = defineEvent(
  'SpecApplied',
  z.strictObject({
    campaign,
    applyId,
    /** sha256 of specText: an identical re-apply records nothing. */
    specHash: sha256,
    specText: z.string().max(1024 * 1024),
    /** The file name the CLI read the spec from, for messages and audit. */
    fileName: z.string().max(1000),
    actor: z.string().min(1).max(200),
  }),
);

/**
 * What `on:` resolved to for one application. Each workspace is one `ExecutionQueued` (in its own
 * stream); this event only counts them, so its size does not grow with the campaign.
 */
export const WorkspacesResolved = defineEvent(
  'WorkspacesResolved',
  z.strictObject({
    campaign,
    applyId,
    specHash: sha256,
    /** How many workspaces (executions) were queued. */
    workspaceCount: z.number().int().nonnegative(),
    /** `on:` entries that matched nothing or failed (e.g. an unknown repository), the first 100. */
    problems: z.array(resolutionProblem).max(MAX_RECORDED_PROBLEMS),
    /** Problems beyond the recorded ones. */
    problemsOmitted: z.number().int().nonnegative(),
  }),
  {
    schemaVersion: 2,
    upcasters: {
      // v1 listed every workspace in the event itself, which outgrew the payload limit at ~1,000.
      1: (data) => {
        const { workspaces, problems, ...rest } = data as {
          workspaces: unknown[];
          problems: unknown[];
        };
        return {
          ...rest,
          workspaceCount: workspaces.length,
          problems: problems.slice(0, MAX_RECORDED_PROBLEMS),
          problemsOmitted: Math.max(0, problems.length - MAX_RECORDED_PROBLEMS),
        };
      },
    },
  },
);

/**
 * Someone closed the campaign: no spec is applied to it any more. `closeChangesets`: its wanted
 * changesets are removed (`campaign-closed`), so the reconciler closes and archives the open ones
 * and detaches the imported ones; otherwise they are left as they are.
 */
export const CampaignClosed = defineEvent(
  'CampaignClosed',
  z.strictObject({ campaign, closeChangesets: z.boolean(), actor: z.string().min(1).max(200) }),
);

/**
 * Someone deleted the (closed) campaign: it leaves status and list, and its name may be applied
 * again as a new campaign; the log keeps its history. Nothing changes on the code hosts.
 */
export const CampaignDeleted = defineEvent(
  'CampaignDeleted',
  z.strictObject({ campaign, actor: z.string().min(1).max(200) }),
);

/** Resolving `on:` failed altogether (e.g. the code host was unreachable); nothing runs. */
export const WorkspaceResolutionFailed = defineEvent(
  'WorkspaceResolutionFailed',
  z.strictObject({ campaign, applyId, specHash: sha256, message: z.string() }),
);

// ---- execution-<executionId> --------------------------------------------------------------

/** One workspace's steps are to run. The job message on the work queue carries this payload. */
export const ExecutionQueued = defineEvent(
  'ExecutionQueued',
  z.strictObject({ executionId: id32, campaign, applyId, specHash: sha256, workspace }),
);
export type ExecutionJob = z.infer<typeof ExecutionQueued.schema>;

/** An executor took the job (again, after a crash: attempt counts deliveries). */
export const ExecutionStarted = defineEvent(
  'ExecutionStarted',
  z.strictObject({
    executionId: id32,
    campaign,
    applyId,
    repository,
    attempt: z.number().int().positive(),
    worker: z.string(),
  }),
);

/** The steps ran (or came from the step cache) and produced this diff (empty: no changeset). */
export const PatchComputed = defineEvent(
  'PatchComputed',
  z.strictObject({
    executionId: id32,
    campaign,
    applyId,
    workspace,
    empty: z.boolean(),
    /** `git diff --binary` of all steps against baseRevision, in the blob table; null when empty. */
    diff: blobRef.nullable(),
    /** campaign-spec StepResults as JSON (files, fileDiffs, outputs, steps with stdout/stderr, secrets redacted), in the blob table. */
    results: blobRef,
    files: changedFiles,
    steps: z.array(
      z.strictObject({
        stepIndex: z.number().int().nonnegative(),
        skipped: z.boolean(),
        exitCode: z.number().int().nullable(),
        durationMs: z.number().nonnegative(),
      }),
    ),
    /** Reused from the step cache (same repository, commit, path and steps) without running containers. */
    cached: z.boolean(),
    /** The workspace's tree after the steps; absent when empty (and in events older than it). */
    tree: gitTree.optional(),
  }),
);

export const EXECUTION_FAILURE_REASONS = [
  'image-missing',
  'command-failed',
  'timeout',
  'template',
  'missing-secret',
  'invalid-files',
  'docker',
  'fetch',
  'internal',
] as const;

/** The steps could not produce a diff; the message says what to do. */
export const ExecutionFailed = defineEvent(
  'ExecutionFailed',
  z.strictObject({
    executionId: id32,
    campaign,
    applyId,
    repository,
    path: z.string(),
    reason: z.enum(EXECUTION_FAILURE_REASONS),
    stepIndex: z.number().int().nonnegative().nullable(),
    exitCode: z.number().int().nullable(),
    message: z.string().max(4000),
    /** Last bytes of the failing step's stderr, secrets redacted. */
    stderrTail: z.string().max(8192),
  }),
);

/**
 * The steps produced a patch, but the changeset template could not be rendered for it (a template
 * error, or a rendered value that cannot be used, e.g. a branch name with spaces): no changeset.
 */
export const ChangesetRenderFailed = defineEvent(
  'ChangesetRenderFailed',
  z.strictObject({
    executionId: id32,
    campaign,
    applyId,
    repository,
    path: z.string(),
    message: z.string().max(4000),
  }),
);

// ---- changeset-<changesetId> --------------------------------------------------------------

const changesetIdentity = { changesetId: id32, campaign, repository, headBranch: z.string() };
const publishedValue = z.union([z.boolean(), z.literal('draft')]);
const mergeMethod = z.enum(['merge', 'squash', 'rebase']);

/** The desired state of one changeset, rendered from the template for a PatchComputed. */
export const ChangesetSpecComputed = defineEvent(
  'ChangesetSpecComputed',
  z.strictObject({
    ...changesetIdentity,
    applyId,
    executionId: id32,
    /** The workspace's path in the repository ('' its root); absent in events recorded before. */
    path: z.string().optional(),
    spec: z.strictObject({
      baseRef: z.string().min(1),
      baseRevision: z.string().regex(/^[0-9a-f]{40}$/),
      title: z.string().max(1024),
      body: z.string().max(65536),
      commit: z.strictObject({
        message: z.string().min(1).max(65536),
        author: z.strictObject({ name: z.string(), email: z.string() }),
      }),
      published: publishedValue,
      /** `changesetTemplate.fork`; absent when the spec does not say (the code host's default). */
      fork: z.boolean().optional(),
      /** `x-campaigns.publicationRate` (e.g. `10/hour`); absent when the spec sets none. */
      publicationRate: z.string().max(64).optional(),
      /** This changeset's diff (a part of the workspace's, with transformChanges) in the blob table. */
      diff: blobRef,
      files: changedFiles,
      /** The tree the diff leads to, when the changeset carries the workspace's whole diff. */
      tree: gitTree.optional(),
      /**
       * `x-campaigns.autoMerge`: merge the changeset with this method once its checks pass and
       * its review allows (`native`: turn on the host's auto-merge while they run); absent (and
       * in events recorded before) it is never merged.
       */
      autoMerge: z.strictObject({ method: mergeMethod, native: z.boolean().optional() }).optional(),
    }),
  }),
);
export type ChangesetSpecData = z.infer<typeof ChangesetSpecComputed.schema>['spec'];

/**
 * The campaign tracks an existing pull request (`importChangesets`): the reconciler reads it from
 * the code host and follows it, and never pushes to, edits or closes it. Its head branch is
 * `#NUMBER` (`importedHeadBranch`).
 */
export const ChangesetImportRequested = defineEvent(
  'ChangesetImportRequested',
  z.strictObject({
    ...changesetIdentity,
    applyId,
    number: z.number().int().positive(),
  }),
);

/**
 * The campaign no longer wants this changeset; the reconciler closes it if it is open, or, for
 * an imported one (`import-left-spec`), stops tracking it and leaves it as it is (detach).
 */
export const ChangesetSpecRemoved = defineEvent(
  'ChangesetSpecRemoved',
  z.strictObject({
    ...changesetIdentity,
    applyId,
    /** `workspace-left-spec`: the repository stays, but not the branch or path that rendered it. */
    reason: z.enum([
      'repository-left-spec',
      'workspace-left-spec',
      'empty-diff',
      'branch-no-longer-produced',
      'import-left-spec',
      'campaign-closed',
    ]),
  }),
);

/** Fields every reconciler event carries: which desired state (spec event) it acted on. */
const reconcilerFields = { ...changesetIdentity, specEventId: z.string().uuid() };

/**
 * A pull request was opened (or found already open from the head branch) for the changeset.
 * It carries what the code host answered, so the changeset's state follows from the events
 * alone (`evolveChangeset`).
 */
export const ChangesetPublished = defineEvent(
  'ChangesetPublished',
  z.strictObject({
    ...reconcilerFields,
    number: z.number().int().positive(),
    url: z.string(),
    nodeId: z.string(),
    draft: z.boolean(),
    baseRef: z.string(),
    headRefOid: z.string(),
    title: z.string(),
    /** The pull request's body as the host answered; null in events recorded before v2. */
    body: z.string().nullable(),
  }),
  {
    schemaVersion: 2,
    upcasters: {
      // v1 had no body: the projection took the spec's. Unknown now; the next update writes it.
      1: (data) => ({ ...(data as object), body: null }),
    },
  },
);

/** The author of a pushed commit. */
const commitAuthor = z.strictObject({ name: z.string(), email: z.string() });

/** One operation changed the changeset on the code host. */
export const ChangesetUpdated = defineEvent(
  'ChangesetUpdated',
  z.strictObject({
    ...reconcilerFields,
    operation: z.enum([
      'push',
      'update',
      'undraft',
      'reopen',
      'convert-to-draft',
      'merge',
      'enable-auto-merge',
    ]),
    number: z.number().int().positive().nullable(),
    /**
     * push: the commit now at the head branch and the diff it carries; enable-auto-merge: the
     * head commit the host's auto-merge was turned on for.
     */
    commitSha: z.string().optional(),
    diffSha256: sha256.optional(),
    /** push: the commit's message and author (absent in events recorded before v2). */
    message: z.string().optional(),
    author: commitAuthor.optional(),
    /** push: the fork the branch was pushed to (HOST/OWNER/NAME); absent: the repository itself. */
    headRepository: z.string().optional(),
    /**
     * merge: how it was merged, and the commit the merge put on the base branch;
     * enable-auto-merge: how the host is to merge it.
     */
    mergeMethod: mergeMethod.optional(),
    mergeCommitSha: z.string().optional(),
    /** update: the fields written. */
    title: z.string().optional(),
    body: z.string().optional(),
    baseRef: z.string().optional(),
  }),
  {
    schemaVersion: 2,
    // v1 pushes did not carry the commit's message and author: the projection took the spec's.
    // Without them the next reconcile of the spec pushes the same commit again.
    upcasters: { 1: (data) => data },
  },
);

/**
 * The changeset was closed on the code host: by the reconciler (its spec left), or by a bulk
 * operation (`bulkOperationId`), which holds it closed until its spec changes.
 */
export const ChangesetClosed = defineEvent(
  'ChangesetClosed',
  z.strictObject({
    ...reconcilerFields,
    number: z.number().int().positive(),
    url: z.string(),
    reason: z.string(),
    /** The bulk operation that closed it; absent when the reconciler did. */
    bulkOperationId: z.string().uuid().optional(),
  }),
);

/**
 * A bulk operation asked the reconciler to act on the changeset outside its spec: `retry` a
 * reconcile that failed terminally (a new attempt at the same desired state), or `publish` a
 * changeset its spec keeps local (`published: false`), from now on whatever later specs say.
 */
export const ChangesetActionRequested = defineEvent(
  'ChangesetActionRequested',
  z.strictObject({
    changesetId: id32,
    campaign,
    repository,
    headBranch: z.string(),
    action: z.enum(['retry', 'publish']),
    bulkOperationId: z.string().uuid(),
  }),
);

/** The changeset matches the desired state of specEventId; `operations` are what it took. */
export const ChangesetReconciled = defineEvent(
  'ChangesetReconciled',
  z.strictObject({ ...reconcilerFields, operations: z.array(z.string()) }),
);

/** An operation failed; retryable ones are retried with backoff, terminal ones wait for the user. */
export const ReconcileFailed = defineEvent(
  'ReconcileFailed',
  z.strictObject({
    ...reconcilerFields,
    operation: z.string(),
    retryable: z.boolean(),
    attempt: z.number().int().positive(),
    message: z.string().max(4000),
    httpStatus: z.number().int().nullable(),
    /** When a retry is due, in ms after this event's recorded_at (null for terminal failures). */
    retryInMs: z.number().int().nonnegative().nullable(),
  }),
);

/**
 * Publishing waits for a slot (rollout windows, the code host's content-creation limits, the
 * campaign's publication rate): the changeset is shown as scheduled and reconciled again then.
 */
export const ChangesetScheduled = defineEvent(
  'ChangesetScheduled',
  z.strictObject({
    ...reconcilerFields,
    /** The expected time of publication (ISO 8601, the rollout clock); null: none within a week. */
    at: z.string().datetime({ offset: true }).nullable(),
    /** When the reconciler takes it up again, in ms after this event's recorded_at. */
    inMs: z.number().int().nonnegative(),
    /** What it waits for. */
    reason: z.enum(['rollout window', 'content limit', 'publication rate']),
  }),
);

/** The changeset as the code host showed it, from a webhook or from a read by the reconciler. */
export const ChangesetObserved = defineEvent(
  'ChangesetObserved',
  z.strictObject({
    ...changesetIdentity,
    source: z.enum(['webhook', 'sync']),
    /** X-GitHub-Delivery of the webhook, for deduplication and audit. */
    deliveryId: z.string().nullable(),
    /** e.g. `pull_request.closed`, `pull_request_review.submitted`, `sync`. */
    trigger: z.string(),
    number: z.number().int().positive(),
    url: z.string().optional(),
    title: z.string().optional(),
    state: z.enum(['open', 'closed', 'merged']).optional(),
    draft: z.boolean().optional(),
    reviewDecision: z
      .enum(['APPROVED', 'CHANGES_REQUESTED', 'REVIEW_REQUIRED'])
      .nullable()
      .optional(),
    checks: z.enum(['SUCCESS', 'FAILURE', 'PENDING', 'ERROR', 'EXPECTED']).nullable().optional(),
    headRefOid: z.string().optional(),
    /** The login of whoever acted on the code host, when the host says. */
    sender: z.string().optional(),
  }),
);

// ---- bulk-<operationId> -----------------------------------------------------------------

export const BULK_OPERATIONS = ['comment', 'merge', 'close', 'publish', 'retry'] as const;
export type BulkOperationKind = (typeof BULK_OPERATIONS)[number];

/** Which of a campaign's changesets a bulk operation acts on, as the person asked. */
export const bulkFilter = z.strictObject({
  state: z.string().optional(),
  checks: z.enum(['passed', 'failed', 'pending']).optional(),
  review: z.enum(['approved', 'changes-requested', 'pending']).optional(),
  /** A glob over the host-qualified repository name. */
  repository: z.string().optional(),
});
export type BulkFilterData = z.infer<typeof bulkFilter>;

/** At most this many changesets in one BulkChangesetsTargeted event. */
export const BULK_TARGET_CHUNK = 500;

/**
 * Someone asked for one operation on the changesets of a campaign that matched `filter` when
 * asked; which ones follow in BulkChangesetsTargeted events (`changesetCount` in all).
 */
export const BulkOperationRequested = defineEvent(
  'BulkOperationRequested',
  z.strictObject({
    operationId: z.string().uuid(),
    campaign,
    operation: z.enum(BULK_OPERATIONS),
    /** comment: the comment's text. */
    message: z.string().max(65536).optional(),
    /** merge: how. */
    method: z.enum(['merge', 'squash', 'rebase']).optional(),
    filter: bulkFilter,
    actor: z.string().min(1).max(200),
    changesetCount: z.number().int().nonnegative(),
  }),
);

/** Some of the changesets a bulk operation acts on (at most BULK_TARGET_CHUNK). */
export const BulkChangesetsTargeted = defineEvent(
  'BulkChangesetsTargeted',
  z.strictObject({
    operationId: z.string().uuid(),
    changesets: z
      .array(z.strictObject({ changesetId: id32, repository, headBranch: z.string() }))
      .max(BULK_TARGET_CHUNK),
  }),
);

/**
 * What a bulk operation did to one changeset: `done`, `skipped` (nothing to do, or not allowed;
 * `message` says why) or `failed` (`message` says what the code host answered).
 */
export const BulkChangesetProcessed = defineEvent(
  'BulkChangesetProcessed',
  z.strictObject({
    operationId: z.string().uuid(),
    /** The operation's campaign, so the campaign's audit shows each result. */
    campaign,
    changesetId: id32,
    repository,
    headBranch: z.string(),
    number: z.number().int().positive().nullable(),
    result: z.enum(['done', 'skipped', 'failed']),
    message: z.string().max(4000),
  }),
);

// ---- deadletter-<consumer> ---------------------------------------------------------------

/**
 * A consumer gave up on an event (it kept failing, or can never apply): whatever that consumer
 * does for the event's campaign stops there. Recorded so `status` can say so instead of waiting.
 */
export const ConsumerDeadLettered = defineEvent(
  'ConsumerDeadLettered',
  z.strictObject({
    /** The durable consumer, e.g. `spec_service_desired_state`. */
    consumer: z.string().min(1).max(200),
    eventId: z.string().uuid(),
    eventType: z.string().min(1).max(200),
    streamId: z.string().min(1).max(500),
    /** The dead event's `data.campaign`, when it names one. */
    campaign: campaign.optional(),
    error: z.string().max(4000),
    attempts: z.number().int().nonnegative(),
  }),
);

// ---- security-<namespace> ---------------------------------------------------------------------

/** What a refused request wanted to do to a namespace's campaigns. */
export const ACCESS_ACTIONS = ['apply', 'preview', 'read', 'close', 'delete', 'bulk'] as const;

/**
 * A request was refused because its caller may not do that in the namespace (item 4 of S2):
 * recorded, and nothing else changed. `campaign` is the campaign's key (`NS/NAME`, as in every
 * event, so its audit shows the refusal), absent for a namespace-wide request (list).
 */
export const AccessDenied = defineEvent(
  'AccessDenied',
  z.strictObject({
    actor: z.string().min(1).max(200),
    action: z.enum(ACCESS_ACTIONS),
    namespace: z.string().min(1).max(200),
    campaign: campaign.optional(),
    reason: z.string().max(1000),
  }),
);

export const DOMAIN_EVENTS = [
  SpecApplied,
  WorkspacesResolved,
  WorkspaceResolutionFailed,
  CampaignClosed,
  CampaignDeleted,
  ExecutionQueued,
  ExecutionStarted,
  PatchComputed,
  ExecutionFailed,
  ChangesetRenderFailed,
  ChangesetSpecComputed,
  ChangesetImportRequested,
  ChangesetSpecRemoved,
  ChangesetPublished,
  ChangesetUpdated,
  ChangesetClosed,
  ChangesetActionRequested,
  ChangesetReconciled,
  ReconcileFailed,
  ChangesetScheduled,
  ChangesetObserved,
  BulkOperationRequested,
  BulkChangesetsTargeted,
  BulkChangesetProcessed,
  ConsumerDeadLettered,
  AccessDenied,
] as const;

/** Every Campaigns event type; each service validates what it appends and reads against it. */
export function campaignsCatalogue(): EventCatalogue {
  return new EventCatalogue(DOMAIN_EVENTS);
}
