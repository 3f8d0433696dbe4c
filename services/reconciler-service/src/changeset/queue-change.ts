import { canEnableNativeAutoMerge, mergeBlocker } from '../planner/index.js';
import { nativeAutoMergeTried, type ChangesetRow } from './changeset-row.js';
import { evolveChangeset, type ChangesetEvent } from './evolve-changeset.js';

/**
 * What a batch of events does to one changeset's row of the reconcile queue, folded in event
 * order: `removed` when a dequeue came (the row, lease and all, is deleted first), then at most
 * one upsert. An upsert's `dueAt` replaces the row's time (`replace`: retries and a dequeued
 * row) or the earlier time wins; `dueVersion` only grows.
 */
export interface QueueChange {
  removed: boolean;
  upsert: { dueAt: Date; dueVersion: bigint; reason: string; replace: boolean } | null;
}

export const noQueueChange = (): QueueChange => ({ removed: false, upsert: null });

/**
 * Folds one event's effect on the queue into `change`: a new desired state is due now; a
 * reconcile of the desired state leaves the queue (of an older one, it is due again); a
 * retryable failure is due after its backoff, a terminal one leaves the queue; an observation
 * that makes a changeset whose spec wants auto-merge mergeable (checks turned green, an approval
 * came, a refusal's cause changed), or lets the host's own auto-merge be turned on (checks
 * started), is due now, and so is a bulk operation's retry or publish. `before` is the changeset
 * as it was before the event.
 */
export function foldQueueChange(
  change: QueueChange,
  before: ChangesetRow,
  event: ChangesetEvent,
): void {
  const at = event.recorded_at;
  const version = event.stream_version;
  switch (event.type) {
    case 'ChangesetSpecComputed':
    case 'ChangesetSpecRemoved':
    case 'ChangesetImportRequested':
      enqueue(change, at, version, event.type);
      return;
    case 'ChangesetReconciled':
      if (before.desiredSpecEventId === event.data.specEventId) dequeue(change);
      else enqueue(change, at, version, 'newer spec', true);
      return;
    case 'ChangesetScheduled':
      if (before.desiredSpecEventId !== event.data.specEventId) return;
      enqueue(change, new Date(at.getTime() + event.data.inMs), version, 'scheduled', true);
      return;
    case 'ChangesetObserved': {
      if (before.autoMerge === null) return;
      const after = evolveChangeset(before, event);
      if (mergeBlocker(before) !== null && mergeBlocker(after) === null)
        enqueue(change, at, version, 'mergeable');
      else if (before.autoMergeNative && !canEnable(before) && canEnable(after))
        enqueue(change, at, version, 'auto-merge can be turned on');
      return;
    }
    case 'ChangesetActionRequested':
      // A bulk operation's retry or publish: a round at the same desired state, now.
      enqueue(change, at, version, `${event.data.action} requested`, true);
      return;
    case 'ReconcileFailed':
      if (before.desiredSpecEventId !== event.data.specEventId) return;
      if (event.data.retryable) {
        const dueAt = new Date(at.getTime() + (event.data.retryInMs ?? 0));
        enqueue(change, dueAt, version, 'retry', true);
      } else {
        dequeue(change);
      }
      return;
    default:
      return;
  }
}

function enqueue(
  change: QueueChange,
  dueAt: Date,
  version: bigint,
  reason: string,
  replace = false,
): void {
  const u = change.upsert;
  if (u === null) {
    change.upsert = { dueAt, dueVersion: version, reason, replace: replace || change.removed };
    return;
  }
  u.dueAt = replace || dueAt < u.dueAt ? dueAt : u.dueAt;
  u.replace ||= replace;
  u.dueVersion = version > u.dueVersion ? version : u.dueVersion;
  u.reason = reason;
}

function dequeue(change: QueueChange): void {
  change.removed = true;
  change.upsert = null;
}

/** Whether the host's auto-merge could be turned on for the row (the host's support aside). */
function canEnable(row: ChangesetRow): boolean {
  return canEnableNativeAutoMerge({ ...row, nativeAutoMergeTried: nativeAutoMergeTried(row) });
}
