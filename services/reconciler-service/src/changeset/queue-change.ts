import type { ChangesetRow } from './changeset-row.js';
import type { ChangesetEvent } from './evolve-changeset.js';

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
 * reconcile of the desired state leaves the queue (of an older one, it is due again); a bulk
 * operation's retry or publish is due now; a
 * retryable failure is due after its backoff, a terminal one leaves the queue. `before` is the
 * changeset as it was before the event.
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
