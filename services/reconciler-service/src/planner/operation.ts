/**
 * Operations the executor performs on a changeset, and the order it performs them in.
 */

/** Every operation the executor knows. `comment` is reserved: no input plans it yet. */
export const OPERATION_TYPES = [
  'push',
  'detach',
  'archive',
  'import',
  'publish',
  'publish-draft',
  'close',
  'reopen',
  'undraft',
  'update',
  'merge',
  'enable-auto-merge',
  'comment',
  'sync',
] as const;

export type OperationType = (typeof OPERATION_TYPES)[number];

/**
 * Lower runs first (Sourcegraph's planner order): the branch must exist before a PR is opened
 * for it, a PR must be open before it can be undrafted or edited, and sync reads the result last.
 */
export const OPERATION_PRECEDENCE: Readonly<Record<OperationType, number>> = {
  push: 0,
  detach: 0,
  archive: 0,
  import: 1,
  publish: 1,
  'publish-draft': 1,
  close: 1,
  reopen: 2,
  undraft: 3,
  update: 4,
  merge: 5,
  'enable-auto-merge': 5,
  comment: 5,
  sync: 6,
};

/** One planned operation and why, in words fit for the audit log. */
export interface Operation {
  readonly type: OperationType;
  readonly reason: string;
}

/** Sorts operations into execution order; stable, so equal-precedence operations keep their order. */
export function inExecutionOrder(operations: readonly Operation[]): Operation[] {
  return [...operations].sort(
    (a, b) => OPERATION_PRECEDENCE[a.type] - OPERATION_PRECEDENCE[b.type],
  );
}
