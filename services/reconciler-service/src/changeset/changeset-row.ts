import type { ChangesetSpecData } from '@campaigns/events';
import {
  compareChangesetSpecs,
  type BranchChangesetSpec,
  type ChangesetSpec,
  type ChangesetState,
  type ExternalState,
  type MergeMethod,
  type ObservedChecks,
  type ObservedReview,
  type PublicationState,
  type PushedCommit,
} from '../planner/index.js';

/** One desired state as a spec event recorded it (table `changeset_specs`). */
export interface RecordedSpec {
  specEventId: string;
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
  /** Null for ChangesetSpecRemoved and ChangesetImportRequested. */
  spec: ChangesetSpecData | null;
  /** ChangesetImportRequested: the pull request to track; null for every other spec event. */
  importNumber: number | null;
  correlationId: string;
  actor: string;
  recordedAt: Date;
}

/** The projected actual and desired state of one changeset (table `changesets`). */
export interface ChangesetRow {
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
  desiredSpecEventId: string | null;
  previousSpecEventId: string | null;
  lastReconciledSpecEventId: string | null;
  publicationState: PublicationState;
  externalState: ExternalState | null;
  number: number | null;
  url: string | null;
  nodeId: string | null;
  draft: boolean;
  headRefOid: string | null;
  lastPushed: (PushedCommit & { commitSha: string }) | null;
  /**
   * The fork (HOST/OWNER/NAME) the head branch was last pushed to; null when it was pushed to
   * the changeset's own repository, or not yet.
   */
  headRepository: string | null;
  title: string | null;
  body: string | null;
  baseRef: string | null;
  archived: boolean;
  /** Tracked from importChangesets: the campaign never pushes to, edits or closes it. */
  imported: boolean;
  /** An imported changeset no longer listed in importChangesets: no longer acted on. */
  detached: boolean;
  /**
   * Closed by a bulk operation: the reconciler keeps it closed while its desired state does not
   * change (`specForRound`); reopened (by a changed spec, or on the host), it is no longer held.
   */
  heldClosed: boolean;
  /** A bulk operation published it: published though its spec says `published: false`. */
  publishRequested: boolean;
  attempts: number;
  lastError: string | null;
  /** The spec event a terminal failure happened for: no retry until another spec. */
  terminalSpecEventId: string | null;
  /** The desired spec's `autoMerge` method; null when it does not ask for auto-merge. */
  autoMerge: MergeMethod | null;
  /** The desired spec's `autoMerge.native`: turn on the host's own auto-merge. */
  autoMergeNative: boolean;
  /**
   * The head commit the host's auto-merge was turned on for, or refused for (then the
   * reconciler merges itself): it is not asked again for that head.
   */
  nativeAutoMergeHead: string | null;
  /** The head commit's checks and the review decision, as last observed. */
  checks: ObservedChecks;
  /** `REVIEW_REQUIRED` until observed: null is the host saying no review is required. */
  reviewDecision: ObservedReview;
  /**
   * The code host's last refusal to merge (conflicts, a moved head, …): no merge is tried again
   * until the head, checks or review change or a new spec comes, so a refusal is never retried
   * blindly.
   */
  mergeRefusal: string | null;
  streamVersion: bigint;
}

/** Which changeset an event is about (every `changeset-<id>` event carries it). */
export interface ChangesetIdentity {
  changesetId: string;
  campaign: string;
  repository: string;
  headBranch: string;
}

/** A changeset nothing has happened to yet. */
export function newChangesetRow(identity: ChangesetIdentity): ChangesetRow {
  return {
    changesetId: identity.changesetId,
    campaign: identity.campaign,
    repository: identity.repository,
    headBranch: identity.headBranch,
    desiredSpecEventId: null,
    previousSpecEventId: null,
    lastReconciledSpecEventId: null,
    publicationState: 'unpublished',
    externalState: null,
    number: null,
    url: null,
    nodeId: null,
    draft: false,
    headRefOid: null,
    lastPushed: null,
    headRepository: null,
    title: null,
    body: null,
    baseRef: null,
    archived: false,
    imported: false,
    detached: false,
    heldClosed: false,
    publishRequested: false,
    attempts: 0,
    lastError: null,
    terminalSpecEventId: null,
    autoMerge: null,
    autoMergeNative: false,
    nativeAutoMergeHead: null,
    checks: null,
    // Not observed yet: a review counts as required until the host says otherwise.
    reviewDecision: 'REVIEW_REQUIRED',
    mergeRefusal: null,
    streamVersion: 0n,
  };
}

/** The planner's spec for a recorded spec: an import, a branch spec, or null when removed. */
export function toChangesetSpec(
  recorded: RecordedSpec | null,
  forkByDefault = false,
): ChangesetSpec | null {
  if (recorded !== null && recorded.importNumber !== null)
    return {
      kind: 'import',
      repository: recorded.repository,
      externalId: String(recorded.importNumber),
    };
  return toBranchSpec(recorded, forkByDefault);
}

/**
 * The planner's branch spec for a recorded spec (null when removed); `forkByDefault` is the code
 * host's `fork` setting, which a spec's own `fork` overrides.
 */
export function toBranchSpec(
  recorded: RecordedSpec | null,
  forkByDefault = false,
): BranchChangesetSpec | null {
  if (recorded?.spec == null) return null;
  const s = recorded.spec;
  return {
    kind: 'branch',
    repository: recorded.repository,
    baseRef: s.baseRef,
    headBranch: recorded.headBranch,
    title: s.title,
    body: s.body,
    commit: { message: s.commit.message, author: { ...s.commit.author } },
    diffSha256: s.diff.sha256,
    published: s.published,
    fork: s.fork ?? forkByDefault,
    autoMerge:
      s.autoMerge === undefined
        ? null
        : { method: s.autoMerge.method, native: s.autoMerge.native ?? false },
  };
}

/**
 * The spec a round plans with: the desired one as bulk operations amended it. Published on
 * request, a spec that keeps it local (`published: false`) publishes it all the same. Held
 * closed (closed by a bulk operation) while its desired state says nothing new (the same content
 * as the spec reconciled before), it is planned as one whose spec left: closed stays closed, and
 * is archived. A spec that changes it is planned as it is, and the planner reopens it, as it
 * reopens any closed changeset its spec wants (Sourcegraph reopens on a changed spec too).
 */
export function specForRound(
  row: Pick<ChangesetRow, 'heldClosed' | 'publishRequested' | 'externalState'>,
  desired: RecordedSpec | null,
  previous: RecordedSpec | null,
  forkByDefault = false,
): BranchChangesetSpec | null {
  const spec = toBranchSpec(desired, forkByDefault);
  if (spec === null) return null;
  if (row.heldClosed && row.externalState === 'closed') {
    const delta = compareChangesetSpecs(toBranchSpec(previous, forkByDefault), spec);
    if (!Object.values(delta).some(Boolean)) return null;
  }
  return row.publishRequested && spec.published === false ? { ...spec, published: true } : spec;
}

/** The planner's view of a changeset: owned by this campaign, or tracked (imported). */
export function plannerState(
  row: ChangesetRow,
  previousSpec: ChangesetSpec | null,
  capabilities: {
    readonly drafts: boolean;
    readonly forks: boolean;
    readonly autoMerge: boolean;
  },
): ChangesetState {
  return {
    repository: row.repository,
    headBranch: row.headBranch,
    ownership: row.imported ? 'tracked' : 'owned',
    publicationState: row.publicationState,
    externalState: row.externalState,
    externalId: row.number === null ? null : String(row.number),
    externalNumber: row.number,
    lastPushed:
      row.lastPushed === null
        ? null
        : {
            diffSha256: row.lastPushed.diffSha256,
            message: row.lastPushed.message,
            author: row.lastPushed.author,
          },
    title: row.title,
    body: row.body,
    baseRef: row.baseRef,
    draft: row.draft,
    supportsDrafts: capabilities.drafts,
    headInFork: row.headRepository !== null,
    supportsForks: capabilities.forks,
    detached: row.detached,
    archived: row.archived,
    previousSpec,
    checks: row.checks,
    reviewDecision: row.reviewDecision,
    mergeRefusal: row.mergeRefusal,
    supportsNativeAutoMerge: capabilities.autoMerge,
    nativeAutoMergeTried: nativeAutoMergeTried(row),
  };
}

/** Whether the host's auto-merge was turned on (or refused) for the changeset's current head. */
export function nativeAutoMergeTried(
  row: Pick<ChangesetRow, 'nativeAutoMergeHead' | 'headRefOid'>,
): boolean {
  return row.nativeAutoMergeHead !== null && row.nativeAutoMergeHead === row.headRefOid;
}
