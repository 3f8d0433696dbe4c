import type {
  ChangesetActionRequested,
  ChangesetClosed,
  ChangesetImportRequested,
  ChangesetObserved,
  ChangesetPublished,
  ChangesetReconciled,
  ChangesetScheduled,
  ChangesetSpecComputed,
  ChangesetSpecRemoved,
  ChangesetUpdated,
  EventData,
  EventMetadata,
  ReconcileFailed,
  StoredEvent,
} from '@campaigns/events';
import type { ChangesetRow, RecordedSpec } from './changeset-row.js';

/** The events of a `changeset-<id>` stream, typed by the catalogue. */
export type ChangesetEventBody =
  | { type: 'ChangesetSpecComputed'; data: EventData<typeof ChangesetSpecComputed> }
  | { type: 'ChangesetSpecRemoved'; data: EventData<typeof ChangesetSpecRemoved> }
  | { type: 'ChangesetImportRequested'; data: EventData<typeof ChangesetImportRequested> }
  | { type: 'ChangesetPublished'; data: EventData<typeof ChangesetPublished> }
  | { type: 'ChangesetUpdated'; data: EventData<typeof ChangesetUpdated> }
  | { type: 'ChangesetClosed'; data: EventData<typeof ChangesetClosed> }
  | { type: 'ChangesetActionRequested'; data: EventData<typeof ChangesetActionRequested> }
  | { type: 'ChangesetReconciled'; data: EventData<typeof ChangesetReconciled> }
  | { type: 'ReconcileFailed'; data: EventData<typeof ReconcileFailed> }
  | { type: 'ChangesetScheduled'; data: EventData<typeof ChangesetScheduled> }
  | { type: 'ChangesetObserved'; data: EventData<typeof ChangesetObserved> };

/** A changeset event as evolve needs it: its body and where it sits in the stream. */
export type ChangesetEvent = ChangesetEventBody & {
  event_id: string;
  stream_version: bigint;
  recorded_at: Date;
  metadata: EventMetadata;
};

/**
 * A stored event of a `changeset-<id>` stream, typed: the store and the consumer have validated
 * (and upcast) its payload against the catalogue, so its type names its data's shape.
 */
export function changesetEvent(event: StoredEvent): ChangesetEvent {
  return event as unknown as ChangesetEvent;
}

/**
 * The one evolve of a changeset: the state after `event`, from the state before it and the
 * event alone (events carry everything it needs). Used by the reconciler's projection, by the
 * worker for its view during a round, and by the planner's convergence property test. Pure:
 * returns a new row, reads nothing.
 */
export function evolveChangeset(before: ChangesetRow, event: ChangesetEvent): ChangesetRow {
  const row: ChangesetRow = { ...before, streamVersion: event.stream_version };
  switch (event.type) {
    case 'ChangesetSpecComputed':
    case 'ChangesetSpecRemoved':
    case 'ChangesetImportRequested':
      row.desiredSpecEventId = event.event_id;
      row.attempts = 0;
      row.lastError = null;
      row.terminalSpecEventId = null;
      // A new desired state (a changed spec applied) tries a refused merge again.
      row.mergeRefusal = null;
      row.autoMerge =
        event.type === 'ChangesetSpecComputed' ? (event.data.spec.autoMerge?.method ?? null) : null;
      row.autoMergeNative =
        event.type === 'ChangesetSpecComputed' && event.data.spec.autoMerge?.native === true;
      if (event.type === 'ChangesetImportRequested') {
        // Listed again after it was detached: tracked again. The number is the changeset's
        // once the import read it from the code host.
        row.imported = true;
        row.detached = false;
      }
      return row;
    case 'ChangesetPublished': {
      const d = event.data;
      row.publicationState = d.draft ? 'draft' : 'published';
      row.externalState = 'open';
      row.number = d.number;
      row.url = d.url;
      row.nodeId = d.nodeId;
      row.draft = d.draft;
      row.baseRef = d.baseRef;
      row.title = d.title;
      row.headRefOid = d.headRefOid;
      // Null in events recorded before the body was: what was known stays.
      row.body = d.body ?? row.body;
      row.archived = false;
      // A pull request just opened: its checks and review are read from the host before any
      // auto-merge.
      row.checks = null;
      row.reviewDecision = 'REVIEW_REQUIRED';
      row.heldClosed = false;
      return row;
    }
    case 'ChangesetUpdated':
      return updated(row, event.data);
    case 'ChangesetClosed':
      row.externalState = 'closed';
      if (event.data.bulkOperationId !== undefined) row.heldClosed = true;
      return row;
    case 'ChangesetActionRequested':
      if (event.data.action === 'publish') row.publishRequested = true;
      else {
        // A new attempt at the same desired state: the terminal failure no longer stops it.
        row.attempts = 0;
        row.lastError = null;
        row.terminalSpecEventId = null;
      }
      return row;
    case 'ChangesetReconciled':
      row.previousSpecEventId = event.data.specEventId;
      row.lastReconciledSpecEventId = event.data.specEventId;
      row.attempts = 0;
      row.lastError = null;
      if (event.data.operations.includes('archive')) row.archived = true;
      if (event.data.operations.includes('detach')) row.detached = true;
      return row;
    case 'ReconcileFailed':
      if (row.desiredSpecEventId !== event.data.specEventId) return row;
      row.attempts = event.data.attempt;
      row.lastError = event.data.message;
      // A refused merge blocks only merging, until what it was refused for changes; anything
      // else terminal blocks the spec until the next one.
      if (!event.data.retryable && event.data.operation === 'merge')
        row.mergeRefusal = event.data.message;
      // The host would not turn on its auto-merge for this head: the reconciler merges itself.
      else if (!event.data.retryable && event.data.operation === 'enable-auto-merge')
        row.nativeAutoMergeHead = row.headRefOid;
      else if (!event.data.retryable) row.terminalSpecEventId = event.data.specEventId;
      return row;
    case 'ChangesetScheduled':
      // The queue takes it up again when its slot comes (queue-change.ts); the row is as it was.
      return row;
    case 'ChangesetObserved':
      // What people do on the code host (close, push, edit) is recorded, never undone on the
      // spot: the reconciler acts again when the desired state changes, as Sourcegraph does.
      return observed(row, event.data);
  }
}

function updated(row: ChangesetRow, d: EventData<typeof ChangesetUpdated>): ChangesetRow {
  if (d.number !== null) row.number = d.number;
  switch (d.operation) {
    case 'push':
      row.lastPushed = {
        diffSha256: d.diffSha256 ?? '',
        // Absent in pushes recorded before v2: the next reconcile pushes the same commit again.
        message: d.message ?? '',
        author: d.author ?? { name: '', email: '' },
        commitSha: d.commitSha ?? '',
      };
      if (d.commitSha !== undefined && d.commitSha !== row.headRefOid) {
        // Checks belong to a head commit: the new one's are unknown until observed.
        row.checks = null;
        row.mergeRefusal = null;
      }
      row.headRefOid = d.commitSha ?? row.headRefOid;
      row.headRepository = d.headRepository ?? null;
      break;
    case 'update':
      if (d.title !== undefined) row.title = d.title;
      if (d.body !== undefined) row.body = d.body;
      if (d.baseRef !== undefined && d.baseRef !== row.baseRef) {
        // Checks observed against the old base say nothing of the new one: read them again.
        row.checks = null;
        row.mergeRefusal = null;
      }
      if (d.baseRef !== undefined) row.baseRef = d.baseRef;
      break;
    case 'undraft':
      row.draft = false;
      row.publicationState = 'published';
      break;
    case 'convert-to-draft':
      row.draft = true;
      row.publicationState = 'draft';
      break;
    case 'reopen':
      row.externalState = 'open';
      row.archived = false;
      row.heldClosed = false;
      break;
    case 'merge':
      row.externalState = 'merged';
      row.mergeRefusal = null;
      row.lastError = null;
      break;
    case 'enable-auto-merge':
      row.nativeAutoMergeHead = d.commitSha ?? row.headRefOid;
      break;
  }
  return row;
}

/** An observation of the code host becomes the actual state. */
function observed(row: ChangesetRow, d: EventData<typeof ChangesetObserved>): ChangesetRow {
  row.number = d.number;
  if (d.url !== undefined) row.url = d.url;
  if (d.title !== undefined) row.title = d.title;
  if (d.draft !== undefined) {
    row.draft = d.draft;
    if (row.publicationState !== 'unpublished')
      row.publicationState = row.draft ? 'draft' : 'published';
  }
  if (d.state !== undefined) row.externalState = d.state;
  // What a merge was refused for changed: it may be tried again (mergeBlocker).
  const head = d.headRefOid !== undefined && d.headRefOid !== row.headRefOid;
  const checks = d.checks !== undefined && d.checks !== row.checks;
  const review = d.reviewDecision !== undefined && d.reviewDecision !== row.reviewDecision;
  if (head || checks || review) row.mergeRefusal = null;
  // Checks belong to a head commit: a new head's are unknown until observed.
  if (d.checks !== undefined) row.checks = d.checks;
  else if (head) row.checks = null;
  if (d.reviewDecision !== undefined) row.reviewDecision = d.reviewDecision;
  // Reopened on the code host by someone: no longer held closed.
  if (d.state === 'open') row.heldClosed = false;
  if (row.imported && row.publicationState === 'unpublished') {
    // An imported pull request the host showed exists there, open or not: it is read.
    row.publicationState = row.draft ? 'draft' : 'published';
  } else if (row.publicationState === 'unpublished' && d.state === 'open') {
    // Opened by an attempt whose event was never recorded (a crash): it is ours.
    row.publicationState = row.draft ? 'draft' : 'published';
  }
  if (d.headRefOid !== undefined) {
    row.headRefOid = d.headRefOid;
    // Someone else pushed: forget what we pushed, so the next reconciliation (a changed spec)
    // pushes the spec's commit again.
    if (
      row.lastPushed !== null &&
      row.lastPushed.commitSha !== row.headRefOid &&
      d.state !== 'merged'
    )
      row.lastPushed = null;
  }
  return row;
}

/** The desired state a spec event records; null for every other event. */
export function recordedSpecOf(event: ChangesetEvent): RecordedSpec | null {
  if (
    event.type !== 'ChangesetSpecComputed' &&
    event.type !== 'ChangesetSpecRemoved' &&
    event.type !== 'ChangesetImportRequested'
  )
    return null;
  const d = event.data;
  return {
    specEventId: event.event_id,
    changesetId: d.changesetId,
    campaign: d.campaign,
    repository: d.repository,
    headBranch: d.headBranch,
    spec: event.type === 'ChangesetSpecComputed' ? event.data.spec : null,
    importNumber: event.type === 'ChangesetImportRequested' ? event.data.number : null,
    correlationId: event.metadata.correlation_id,
    actor: event.metadata.actor,
    recordedAt: event.recorded_at,
  };
}
