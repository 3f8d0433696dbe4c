/**
 * How a reconcile round ended (controller-runtime's `Result`, Sourcegraph's reconciler
 * outcomes), instead of flags. It says what happens to the changeset's queue row.
 */
export type ReconcileOutcome =
  /** The code host matches the desired state (ChangesetReconciled): leave the queue. */
  | { readonly kind: 'done' }
  /** A retryable failure was recorded (ReconcileFailed): the projection re-queues it. */
  | { readonly kind: 'retry'; readonly afterMs: number }
  /** Its publication waits for a slot (ChangesetScheduled): the projection re-queues it then. */
  | { readonly kind: 'scheduled'; readonly afterMs: number }
  /** A terminal failure was recorded: nothing more until the next spec. */
  | { readonly kind: 'terminal' }
  /** Another writer appended first (a new spec, another worker): release, still due. */
  | { readonly kind: 'overtaken' }
  /** Failed unexpectedly: keep the lease, so the changeset is retried once it expires. */
  | { readonly kind: 'crashed' };

/** Backoff of retryable failures: 1 s · 2^(attempt-1), at most 5 minutes; a retry-after wins. */
export function retryDelayMs(attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.ceil(retryAfterMs);
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 300_000);
}
