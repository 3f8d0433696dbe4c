// The desired-state process manager's decisions: what one event of its lane makes it record, as a
// pure function of its rows (`DesiredState`) and of what the handler read or resolved for it.
// No database, broker or framework here; `process-manager.ts` records what this decides.
import { ChangesetRenderError, type CampaignSpec } from '@campaigns/campaign-spec';
import {
  campaignStream,
  changesetId,
  changesetStream,
  deterministicEventId,
  executionStream,
  importedHeadBranch,
  type CampaignClosed,
  type CampaignDeleted,
  type ChangesetSpecComputed,
  type EventData,
  type EventMetadata,
  type NewEvent,
  type PatchComputed,
  type SpecApplied,
  type StoredEvent,
  type StreamAppend,
  type WorkspaceIdentity,
} from '@campaigns/events';
import {
  workspaceOf,
  type ApplyRow,
  type ChangesetRow,
  type DesiredState,
  type RowChange,
} from './desired-state.js';
import {
  changesetsLeavingSpec,
  planImports,
  planWorkspaceChangesets,
  type ChangesetImport,
  type ChangesetRemoval,
} from './plan-changesets.js';
import { recordedProblems, type ExecutionPlan, type QueuedWorkspace } from './plan-executions.js';
import { renderPatch, RenderFailure, type PatchRendering } from './render-patch.js';

/** Who the spec-service says recorded its events. */
export const SPEC_SERVICE_SOURCE = 'spec-service';

type SpecAppliedData = EventData<typeof SpecApplied>;
type CampaignClosedData = EventData<typeof CampaignClosed>;
type PatchComputedData = EventData<typeof PatchComputed>;
type ChangesetSpecComputedData = EventData<typeof ChangesetSpecComputed>;

/** How resolving one application's workspaces ended: what to queue, or why nothing runs. */
export type Resolution =
  { outcome: 'resolved'; plan: ExecutionPlan } | { outcome: 'failed'; message: string };

/** An event to record, with the metadata of its own cause. */
export interface PendingAppend {
  stream: string;
  expected: 'any';
  event: NewEvent & { event_id: string; metadata: EventMetadata };
}

/** What deciding an event needs from outside the rows: read, resolved or parsed by the handler. */
export interface Resolved {
  /**
   * SpecApplied: the events its stream holds after it (`awaitsOutcome` decides from them whether
   * it still awaits its outcome).
   */
  later?: readonly StoredEvent[];
  /** SpecApplied awaiting its outcome: how resolving its workspaces ended (`prepare`). */
  resolution?: Resolution;
  /** PatchComputed: its step results blob, when it was found. */
  resultsBlob?: Buffer;
  /**
   * PatchComputed: the parsed spec of an application (null when it no longer validates). Asked
   * only for a patch of the current application that is to be rendered.
   */
  specOf?: (apply: ApplyRow) => CampaignSpec | null;
}

/**
 * The outcome of an application, recorded in its campaign's stream after what the batch decided
 * before it. `resolved`: `WorkspacesResolved` and one `ExecutionQueued` per workspace, all or
 * nothing (should the store refuse them, decide again with the refusal as a failed resolution).
 */
export type Outcome =
  | {
      kind: 'resolved';
      stream: string;
      metadata: EventMetadata;
      event: NewEvent & { event_id: string };
      /** The ExecutionQueued events (metadata: the outcome's), made a slice at a time. */
      queued: { length: number; slice(start: number, end: number): StreamAppend[] };
    }
  | {
      kind: 'failed';
      stream: string;
      metadata: EventMetadata;
      event: NewEvent & { event_id: string };
      /** Why, whole (the event holds its first 4,000 characters). */
      message: string;
    };

/** What one event makes the process manager record. */
export interface Decision {
  /** A SpecApplied still awaiting its outcome: that outcome. */
  outcome?: Outcome;
  /** Events to append after the outcome (if any), in this order. */
  appends: PendingAppend[];
  /** How the rows change once this is recorded (`DesiredState.evolve`), in this order. */
  changes: RowChange[];
  /** Diffs of changesets that carry a part of a workspace's diff: to store as blobs. */
  newBlobs: string[];
}

/** Events of a campaign stream after which an earlier SpecApplied no longer runs. */
const SUPERSEDING: readonly string[] = ['SpecApplied', 'CampaignClosed', 'CampaignDeleted'];

/** The outcomes of a SpecApplied; once one is in its stream, the application was reacted to. */
const OUTCOMES = ['WorkspacesResolved', 'WorkspaceResolutionFailed'] as const;

export function metadataFor(
  applyId: string,
  causationId: string | null,
  actor: string,
): EventMetadata {
  return { correlation_id: applyId, causation_id: causationId, actor, source: SPEC_SERVICE_SOURCE };
}

/**
 * Whether a SpecApplied still awaits its outcome, given the events after it in its stream: not
 * superseded, not already reacted to.
 */
export function awaitsOutcome(e: StoredEvent, later: readonly StoredEvent[]): boolean {
  // A newer application makes this one moot: its own reaction follows. Closed (or deleted)
  // since, it is never run.
  if (later.some((l) => SUPERSEDING.includes(l.type))) return false;
  // Resolving again could answer otherwise than the outcome already recorded.
  const outcomes = new Set(OUTCOMES.map((t) => deterministicEventId(e.event_id, t)));
  return !later.some((l) => outcomes.has(l.event_id));
}

/**
 * What one event of the lane makes the process manager record: on `SpecApplied` (the latest,
 * not yet reacted to) its outcome and the removal of changesets whose repository left the spec;
 * on `PatchComputed` of the campaign's current application the changesets it renders anew and
 * those it no longer produces, or the failure to render them. Other events decide nothing.
 * Event ids derive from the cause, so deciding again records nothing twice.
 */
export function decide(state: DesiredState, e: StoredEvent, resolved: Resolved): Decision {
  if (e.type === 'SpecApplied')
    return decideSpecApplied(state, e as StoredEvent<SpecAppliedData>, resolved);
  if (e.type === 'PatchComputed')
    return decidePatchComputed(state, e as StoredEvent<PatchComputedData>, resolved);
  if (e.type === 'CampaignClosed')
    return decideCampaignClosed(state, e as StoredEvent<CampaignClosedData>);
  if (e.type === 'CampaignDeleted')
    return decideCampaignDeleted(state, e as StoredEvent<EventData<typeof CampaignDeleted>>);
  return { appends: [], changes: [], newBlobs: [] };
}

/**
 * `campaign close`: its patches render nothing any more; with `closeChangesets`, every wanted
 * changeset is removed (`campaign-closed`): the reconciler closes and archives the ones it opened
 * and detaches the imported ones.
 */
function decideCampaignClosed(state: DesiredState, e: StoredEvent<CampaignClosedData>): Decision {
  const d = e.data;
  const decision: Decision = { appends: [], changes: [], newBlobs: [] };
  const applyId = state.currentApplication(d.campaign);
  if (applyId === undefined) return decision; // never applied: nothing of it to close
  decision.changes.push({ kind: 'closed', campaign: d.campaign, streamVersion: e.stream_version });
  if (!d.closeChangesets) return decision;
  const metadata = metadataFor(applyId, e.event_id, d.actor);
  for (const row of state.wanted(d.campaign))
    removeChangeset(
      decision,
      { kind: 'removed', row, reason: 'campaign-closed' },
      e.event_id,
      applyId,
      metadata,
    );
  return decision;
}

/**
 * `campaign delete` (of a closed campaign): whatever it still wanted is forgotten without a word
 * to the reconciler (what is on the code hosts stays as it is), so that its name applied anew
 * starts from nothing and removes none of the old changesets.
 */
function decideCampaignDeleted(
  state: DesiredState,
  e: StoredEvent<EventData<typeof CampaignDeleted>>,
): Decision {
  const decision: Decision = { appends: [], changes: [], newBlobs: [] };
  for (const row of state.wanted(e.data.campaign))
    decision.changes.push({ kind: 'changeset', row: { ...row, removed: true } });
  return decision;
}

function decideSpecApplied(
  state: DesiredState,
  e: StoredEvent<SpecAppliedData>,
  resolved: Resolved,
): Decision {
  const d = e.data;
  const changes: RowChange[] = [
    {
      kind: 'applied',
      apply: {
        apply_id: d.applyId,
        campaign: d.campaign,
        spec_hash: d.specHash,
        spec_text: d.specText,
        file_name: d.fileName,
        actor: d.actor,
        spec_event_id: e.event_id,
      },
      streamVersion: e.stream_version,
    },
  ];
  const decision: Decision = { appends: [], changes, newBlobs: [] };
  if (resolved.later === undefined)
    throw new Error(`SpecApplied ${e.event_id} was decided without the events after it`);
  if (!awaitsOutcome(e, resolved.later)) return decision;
  const resolution = resolved.resolution;
  if (!resolution)
    throw new Error(
      `SpecApplied ${e.event_id} of ${d.campaign} reached its transaction unresolved; a retry resolves it`,
    );
  const stream = campaignStream(d.campaign);
  const metadata = metadataFor(d.applyId, e.event_id, d.actor);
  if (resolution.outcome === 'failed') {
    decision.outcome = {
      kind: 'failed',
      stream,
      metadata,
      message: resolution.message,
      event: {
        event_id: deterministicEventId(e.event_id, 'WorkspaceResolutionFailed'),
        type: 'WorkspaceResolutionFailed',
        data: {
          campaign: d.campaign,
          applyId: d.applyId,
          specHash: d.specHash,
          message: resolution.message.slice(0, 4000),
        },
      },
    };
    return decision;
  }
  const { workspaces, problems } = resolution.plan;
  const queued = (w: QueuedWorkspace): StreamAppend => ({
    stream: executionStream(w.executionId),
    expected: 'any',
    event: {
      event_id: deterministicEventId(e.event_id, 'ExecutionQueued', w.executionId),
      type: 'ExecutionQueued',
      data: {
        executionId: w.executionId,
        campaign: d.campaign,
        applyId: d.applyId,
        specHash: d.specHash,
        workspace: w.workspace,
      },
    },
  });
  decision.outcome = {
    kind: 'resolved',
    stream,
    metadata,
    event: {
      event_id: deterministicEventId(e.event_id, 'WorkspacesResolved'),
      type: 'WorkspacesResolved',
      data: {
        campaign: d.campaign,
        applyId: d.applyId,
        specHash: d.specHash,
        workspaceCount: workspaces.length,
        ...recordedProblems(problems),
      },
    },
    queued: {
      length: workspaces.length,
      slice: (start, end) => workspaces.slice(start, end).map(queued),
    },
  };
  changes.push({
    kind: 'queued',
    campaign: d.campaign,
    applyId: d.applyId,
    executionIds: workspaces.map((w) => w.executionId),
  });
  const wanted = state.wanted(d.campaign);
  for (const c of changesetsLeavingSpec(
    wanted,
    workspaces.map((w) => w.workspace),
  ))
    removeChangeset(decision, c, e.event_id, d.applyId, metadata);
  const imports = planImports(d.campaign, wanted, resolution.plan.imports);
  for (const i of imports.imported) importChangeset(decision, i, e.event_id, d, metadata);
  for (const c of imports.removed) removeChangeset(decision, c, e.event_id, d.applyId, metadata);
  return decision;
}

/** Records that the campaign tracks an existing pull request (`importChangesets`). */
function importChangeset(
  decision: Decision,
  i: ChangesetImport,
  causeId: string,
  d: SpecAppliedData,
  metadata: EventMetadata,
): void {
  const eventId = deterministicEventId(causeId, 'ChangesetImportRequested', i.changesetId);
  const headBranch = importedHeadBranch(i.number);
  decision.appends.push({
    stream: changesetStream(i.changesetId),
    expected: 'any',
    event: {
      event_id: eventId,
      type: 'ChangesetImportRequested',
      data: {
        changesetId: i.changesetId,
        campaign: d.campaign,
        repository: i.repository,
        headBranch,
        applyId: d.applyId,
        number: i.number,
      },
      metadata,
    },
  });
  decision.changes.push({
    kind: 'changeset',
    row: {
      changeset_id: i.changesetId,
      campaign: d.campaign,
      repository: i.repository,
      head_branch: headBranch,
      workspace_branch: null,
      workspace_path: '',
      removed: false,
      spec: null,
      last_event_id: eventId,
      import_number: i.number,
    },
  });
}

function decidePatchComputed(
  state: DesiredState,
  e: StoredEvent<PatchComputedData>,
  resolved: Resolved,
): Decision {
  const d = e.data;
  const decision: Decision = { appends: [], changes: [], newBlobs: [] };
  if (state.currentApplication(d.campaign) !== d.applyId) return decision; // a stale application's result
  if (state.isClosed(d.campaign)) return decision; // closed while its steps ran
  const apply = state.application(d.applyId);
  if (!apply)
    throw new Error(`application ${d.applyId} of ${d.campaign} is current but not recorded`);
  const metadata = metadataFor(d.applyId, e.event_id, apply.actor);
  let rendering: PatchRendering;
  try {
    rendering = d.empty
      ? { changesets: [], newBlobs: [] }
      : renderPatch(specFor(apply, resolved), d, resolved.resultsBlob);
    refuseSharedBranches(state, d, rendering);
  } catch (err) {
    if (!(err instanceof RenderFailure || err instanceof ChangesetRenderError)) throw err;
    const message = err.message.slice(0, 4000);
    decision.appends.push({
      stream: executionStream(d.executionId),
      expected: 'any',
      event: {
        event_id: deterministicEventId(e.event_id, 'render-failed'),
        type: 'ChangesetRenderFailed',
        data: {
          executionId: d.executionId,
          campaign: d.campaign,
          applyId: d.applyId,
          repository: d.workspace.repository,
          path: d.workspace.path,
          message,
        },
        metadata,
      },
    });
    decision.changes.push(handled(d, message));
    return decision;
  }
  decision.newBlobs.push(...rendering.newBlobs);
  const recorded = state.changesetsOf(d.campaign, d.workspace);
  for (const c of planWorkspaceChangesets(
    d.campaign,
    d.workspace.repository,
    recorded,
    rendering.changesets,
  )) {
    if (c.kind === 'removed') {
      removeChangeset(decision, c, e.event_id, d.applyId, metadata);
      continue;
    }
    const eventId = deterministicEventId(e.event_id, 'ChangesetSpecComputed', c.changesetId);
    const data: ChangesetSpecComputedData = {
      changesetId: c.changesetId,
      campaign: d.campaign,
      repository: d.workspace.repository,
      headBranch: c.headBranch,
      applyId: d.applyId,
      executionId: d.executionId,
      path: d.workspace.path,
      spec: c.spec,
    };
    decision.appends.push({
      stream: changesetStream(c.changesetId),
      expected: 'any',
      event: { event_id: eventId, type: 'ChangesetSpecComputed', data, metadata },
    });
    const row: ChangesetRow = {
      changeset_id: c.changesetId,
      campaign: d.campaign,
      repository: d.workspace.repository,
      head_branch: c.headBranch,
      workspace_branch: d.workspace.branch,
      workspace_path: d.workspace.path,
      removed: false,
      spec: c.spec,
      last_event_id: eventId,
      import_number: null,
    };
    decision.changes.push({ kind: 'changeset', row });
  }
  decision.changes.push(handled(d, null));
  return decision;
}

function specFor(apply: ApplyRow, resolved: Resolved): CampaignSpec {
  if (!resolved.specOf)
    throw new Error(`the spec of application ${apply.apply_id} was not at hand to decide with`);
  const spec = resolved.specOf(apply);
  if (spec === null) throw new RenderFailure(`the spec of this application no longer validates`);
  return spec;
}

/**
 * Two changesets of one campaign and repository with one head branch would be one pull request:
 * the second push would force away the first one's commit. Like Sourcegraph ("multiple changeset
 * specs have the same branch"), the workspace whose patch arrives second gets no changeset and a
 * render failure that names both workspaces (or the branch repeated within its own rendering);
 * the changeset already recorded is left as it is. Workspaces differ by path (`workspaces:`) or by
 * branch (several `branches:`); the advice names the template variable that tells them apart.
 */
function refuseSharedBranches(
  state: DesiredState,
  d: PatchComputedData,
  rendering: PatchRendering,
): void {
  const { repository } = d.workspace;
  const seen = new Set<string>();
  for (const { headBranch } of rendering.changesets) {
    if (seen.has(headBranch))
      throw new RenderFailure(
        `multiple changeset specs have the same branch "${headBranch}" in ${repository} (workspace ${describeWorkspace(d.workspace, false)}): each changeset needs a branch of its own (changesetTemplate.branch, transformChanges.group[].branch)`,
      );
    seen.add(headBranch);
    const other = state.changeset(changesetId(d.campaign, repository, headBranch));
    if (!other || other.removed) continue;
    const theirs = workspaceOf(other);
    if (theirs.branch === d.workspace.branch && theirs.path === d.workspace.path) continue;
    // The branch is named only when it is what tells the two workspaces apart.
    const branches = theirs.branch !== d.workspace.branch;
    const mine = describeWorkspace(d.workspace, branches);
    const advice = branches
      ? 'Include ${{ repository.branch }} in changesetTemplate.branch to give each branch its own'
      : 'Include ${{ steps.path }} in changesetTemplate.branch (e.g. ${{ replace steps.path "/" "-" }}) to give each workspace its own';
    throw new RenderFailure(
      `multiple changeset specs have the same branch "${headBranch}" in ${repository}: workspace ${mine} and workspace ${describeWorkspace(theirs, branches)}; nothing was pushed for workspace ${mine}. ${advice}`,
    );
  }
}

/** A workspace in words: its path (`the root`), and the branch it runs on when asked. */
function describeWorkspace({ branch, path }: WorkspaceIdentity, withBranch: boolean): string {
  const where = path === '' ? 'the root' : JSON.stringify(path);
  return withBranch ? `${where} on ${branch}` : where;
}

function handled(d: PatchComputedData, renderError: string | null): RowChange {
  return {
    kind: 'handled',
    executionId: d.executionId,
    campaign: d.campaign,
    applyId: d.applyId,
    renderError,
  };
}

function removeChangeset(
  decision: Decision,
  { row, reason }: ChangesetRemoval,
  causeId: string,
  applyId: string,
  metadata: EventMetadata,
): void {
  const eventId = deterministicEventId(causeId, 'ChangesetSpecRemoved', row.changeset_id);
  decision.appends.push({
    stream: changesetStream(row.changeset_id),
    expected: 'any',
    event: {
      event_id: eventId,
      type: 'ChangesetSpecRemoved',
      data: {
        changesetId: row.changeset_id,
        campaign: row.campaign,
        repository: row.repository,
        headBranch: row.head_branch,
        applyId,
        reason,
      },
      metadata,
    },
  });
  decision.changes.push({
    kind: 'changeset',
    row: { ...row, removed: true, last_event_id: eventId },
  });
}
